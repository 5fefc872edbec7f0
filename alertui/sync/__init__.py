"""One home for syncing alertui's snapshot with the clusters' Alertmanagers and Prometheus
servers: source health (models, health), the list of kinds of sync (registry), runs with their
per-cluster locks (runs), the Celery task and beat schedule built from kinds x clusters (tasks,
schedule), the `sync` command, and retention of history. Each app contributes its sync
function, listed once in registry.KINDS; a cluster is added in the clusters file."""
