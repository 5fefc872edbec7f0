from django.db import models


class Alert(models.Model):
    """The current alerts, as the last sync saw them (deduplicated by fingerprint across peers)."""

    fingerprint = models.CharField(max_length=64, primary_key=True)
    alertname = models.CharField(max_length=255, db_index=True, blank=True)
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
        ordering = ["alertname", "fingerprint"]

    def __str__(self):
        return self.alertname or self.fingerprint


class SourceStatus(models.Model):
    """Health of one sync source, for the "data is N seconds old" line and outage banners."""

    name = models.CharField(max_length=64, primary_key=True)
    last_attempt_at = models.DateTimeField(null=True)
    last_success_at = models.DateTimeField(null=True)
    failing_since = models.DateTimeField(null=True)
    last_error = models.TextField(blank=True)

    def __str__(self):
        return self.name
