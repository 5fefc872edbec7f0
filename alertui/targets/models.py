from django.db import models

from alertui.clusters import default_name


class FailingTarget(models.Model):
    """A scrape target that is down (or never scraped), as the last sync saw it."""

    # The cluster (alertui.clusters) whose Prometheus this row is of.
    cluster = models.CharField(max_length=63, default=default_name, db_index=True)
    source = models.CharField(max_length=255)  # the Prometheus URL
    scrape_pool = models.CharField(max_length=255)
    scrape_url = models.TextField()
    job = models.CharField(max_length=255, blank=True, db_index=True)
    instance = models.CharField(max_length=255, blank=True)
    labels = models.JSONField(default=dict)
    health = models.CharField(max_length=16)  # down | unknown
    last_error = models.TextField(blank=True)
    last_scrape = models.DateTimeField(null=True)
    last_scrape_duration = models.FloatField(default=0)
    failing_since = models.DateTimeField()
    # The row's table cells, rendered by the sync (alertui.targets.rows), and the version of
    # the template that rendered them.
    row_html = models.TextField(blank=True, default="")
    row_template = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        ordering = ["source", "scrape_pool", "scrape_url"]
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "source", "scrape_pool", "scrape_url"],
                name="unique_failing_target_per_cluster",
            )
        ]

    def __str__(self):
        return f"{self.scrape_pool} {self.scrape_url}"


class ScrapePool(models.Model):
    """A scrape job of one Prometheus, with how many of its targets are healthy."""

    # The cluster (alertui.clusters) whose Prometheus this row is of.
    cluster = models.CharField(max_length=63, default=default_name, db_index=True)
    source = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    up = models.PositiveIntegerField(default=0)
    failing = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["source", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "source", "name"], name="unique_scrape_pool_per_cluster"
            )
        ]

    def __str__(self):
        return self.name

    @property
    def total(self) -> int:
        return self.up + self.failing


class TargetHistory(models.Model):
    """One outage of a target: when it went down and when it came back."""

    # The cluster (alertui.clusters) whose Prometheus this row is of.
    cluster = models.CharField(max_length=63, default=default_name, db_index=True)
    source = models.CharField(max_length=255)
    scrape_pool = models.CharField(max_length=255)
    scrape_url = models.TextField()
    job = models.CharField(max_length=255, blank=True)
    instance = models.CharField(max_length=255, blank=True)
    last_error = models.TextField(blank=True)
    down_at = models.DateTimeField(db_index=True)
    up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-down_at"]
        verbose_name_plural = "target history"

    def __str__(self):
        return f"{self.scrape_url} down {self.down_at:%Y-%m-%d %H:%M}"


class RuleFailure(models.Model):
    """A rule whose evaluation fails (health "err"), with Prometheus's error."""

    # The cluster (alertui.clusters) whose Prometheus this row is of.
    cluster = models.CharField(max_length=63, default=default_name, db_index=True)
    source = models.CharField(max_length=255)
    group = models.CharField(max_length=255)
    file = models.TextField(blank=True)
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=16)
    query = models.TextField()
    error = models.TextField()
    last_evaluation = models.DateTimeField(null=True)

    class Meta:
        ordering = ["source", "group", "name"]

    def __str__(self):
        return self.name
