"""The Celery tasks: one sync of one kind for one cluster (the beat queues one per kind and
cluster, so a slow cluster's task never holds up another's), and retention."""

from celery import shared_task

from alertui.locks import LockUnavailable


@shared_task(
    autoretry_for=(LockUnavailable,), retry_backoff=True, retry_backoff_max=60, max_retries=3
)
def sync_source(kind: str, cluster: str) -> dict:
    from alertui.sync import registry

    result = registry.function(kind)(cluster=cluster)
    return {
        "kind": kind,
        "cluster": cluster,
        "skipped": result.skipped,
        "summary": result.summary(),
        "failures": result.failures(),
    }


@shared_task
def prune_history() -> dict:
    from alertui.sync.retention import prune_history as run_prune

    return run_prune()
