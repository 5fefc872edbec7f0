from django.db import models


class SourceStatus(models.Model):
    """Health of one sync source (a kind of sync of one cluster, or one of its Prometheus
    servers), for the "data is N seconds old" line, the outage banners and /metrics.

    One row is no source: SNAPSHOT's version counts the changes of the alerts table (of every
    cluster), which web processes compare with the snapshot they cache (alerts.snapshot)."""

    name = models.CharField(max_length=255, primary_key=True)
    kind = models.CharField(max_length=32, blank=True)  # registry kind's health name
    cluster = models.CharField(max_length=63, blank=True, db_index=True)
    url = models.CharField(max_length=255, blank=True)  # one Prometheus, for its own row
    last_attempt_at = models.DateTimeField(null=True)
    last_success_at = models.DateTimeField(null=True)
    failing_since = models.DateTimeField(null=True)
    last_error = models.TextField(blank=True)
    # What the last successful run could not read (items skipped or shown in part): shown on
    # the pages, so one bad item from a source is visible rather than a silent gap.
    note = models.TextField(blank=True)
    # Bumped whenever a sync changed the snapshot: web processes cache the parsed snapshot and
    # reload it only when this moves.
    version = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(null=True)  # with version: identifies one snapshot
    last_duration = models.FloatField(null=True)  # seconds the last run took
    # What the last successful run read and left behind, as its sync digests it (health.Run
    # same_as_last): a run that finds the same has nothing to write.
    answer_key = models.CharField(max_length=255, blank=True)
    runs = models.PositiveBigIntegerField(default=0)
    errors = models.PositiveBigIntegerField(default=0)

    class Meta:
        # Kept from when it lived in the alerts app: the rows stay where they are.
        db_table = "alerts_sourcestatus"

    def __str__(self):
        return self.name

    @property
    def label(self) -> str:
        names = {
            "alertmanager-alerts": "Alertmanager (alerts)",
            "alertmanager-silences": "Alertmanager (silences)",
            "prometheus": "Prometheus",
        }
        from alertui import clusters

        where = f" {self.url}" if self.url else ""
        # Named only when there are several: one cluster's banners read as they always did.
        of = f" of cluster {self.cluster}" if len(clusters.configured()) > 1 else ""
        return f"{names.get(self.kind, self.kind)}{where}{of}"
