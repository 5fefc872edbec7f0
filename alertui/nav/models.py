from django.db import models


class NavCount(models.Model):
    """A number the nav shows on every page, counted when its data changes (alertui.nav.counts)
    rather than on each request and poll."""

    name = models.CharField(max_length=32, primary_key=True)
    value = models.PositiveBigIntegerField(default=0)
    # The version of the data counted: for the firing alerts, the alert snapshot's version
    # (SourceStatus); a count of another version is never shown. For the failing targets, the
    # number of recounts (the count is written in the transaction that changed the targets).
    version = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"{self.name}={self.value} (v{self.version})"
