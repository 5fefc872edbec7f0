from django.db import models
from django.utils import timezone

from alertui.silences.models import Silence


class SilenceMatch(models.Model):
    """Whether a silence mutes any alert now, and since when it has muted none.

    Kept by the alerts sync (stale_silences.matches) when the alerts change, so the silence
    list reads it instead of scanning the alerts per request. A silence gets its row at the
    first alerts sync that sees it; before that, nothing is known about it."""

    silence = models.OneToOneField(
        Silence, primary_key=True, on_delete=models.CASCADE, related_name="match"
    )
    muting = models.BooleanField(default=False, db_index=True)
    # The last time the sync saw it mute an alert (or, for a silence older than its row, the
    # last time the alert history shows a matching alert firing while it was on); null: never.
    last_matched_at = models.DateTimeField(null=True, blank=True)
    # Since when it has muted nothing (null while it mutes): its last match, or its start.
    quiet_since = models.DateTimeField(null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "silence matches"

    def __str__(self):
        return (
            f"{self.silence_id}: {'muting' if self.muting else f'quiet since {self.quiet_since}'}"
        )
