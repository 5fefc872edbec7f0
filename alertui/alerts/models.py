from django.db import models

from alertui.clusters import default_name


class Alert(models.Model):
    """The current alerts, as the last sync saw them: per cluster, deduplicated by fingerprint
    across its peers (the same alert firing in two clusters is two rows)."""

    # The Alertmanager cluster (alertui.clusters) this row is of.
    cluster = models.CharField(max_length=63, default=default_name, db_index=True)
    fingerprint = models.CharField(max_length=64)
    alertname = models.CharField(max_length=255, db_index=True, blank=True)
    severity = models.CharField(max_length=64, db_index=True, blank=True)
    is_silenced = models.BooleanField(default=False, db_index=True)
    is_inhibited = models.BooleanField(default=False, db_index=True)
    # A hash of everything shown of the alert: the sync compares it instead of loading and
    # comparing every alert's JSON.
    digest = models.CharField(max_length=32, blank=True)
    # What was wrong with the alert as Alertmanager sent it, one problem a line ("" for none):
    # the page's note counts such alerts, and a sync reads only the alerts that changed.
    problems = models.TextField(blank=True)
    # The alerts source version (SourceStatus.version) whose sync last wrote this row: a web
    # process holding an older snapshot re-reads only the rows newer than it.
    snapshot_version = models.PositiveBigIntegerField(default=0, db_index=True)
    labels = models.JSONField(default=dict)
    annotations = models.JSONField(default=dict)
    state = models.CharField(max_length=16)  # active | suppressed | unprocessed
    silenced_by = models.JSONField(default=list)
    inhibited_by = models.JSONField(default=list)
    receivers = models.JSONField(default=list)
    generator_url = models.TextField(blank=True)
    starts_at = models.DateTimeField(null=True)
    updated_at = models.DateTimeField(null=True)
    ends_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["alertname", "cluster", "fingerprint"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "fingerprint"], name="unique_alert")
        ]

    def __str__(self):
        return self.alertname or self.fingerprint


class AlertHistory(models.Model):
    """One firing of an alert (same labels = same fingerprint): when it started and resolved."""

    # The Alertmanager cluster (alertui.clusters) this row is of.
    cluster = models.CharField(max_length=63, default=default_name, db_index=True)
    fingerprint = models.CharField(max_length=64)
    alertname = models.CharField(max_length=255, blank=True, db_index=True)
    labels = models.JSONField(default=dict)
    started_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["fingerprint", "-started_at"]),
            models.Index(fields=["cluster", "fingerprint", "resolved_at"]),
        ]
        verbose_name_plural = "alert history"

    def __str__(self):
        return f"{self.alertname} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration(self):
        from django.utils import timezone

        return (self.resolved_at or timezone.now()) - self.started_at
