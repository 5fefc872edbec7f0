from django.db import models


class AlertingRule(models.Model):
    """An alerting rule of one Prometheus, as its last sync read it: what the alerts page shows
    as an alert's expression."""

    source = models.CharField(max_length=255)  # the Prometheus URL
    group = models.CharField(max_length=255)
    name = models.CharField(max_length=255, db_index=True)  # the alertname it fires
    query = models.TextField()
    labels = models.JSONField(default=dict)  # the labels the rule adds: tells rules apart

    class Meta:
        ordering = ["name", "source", "group"]

    def __str__(self):
        return self.name
