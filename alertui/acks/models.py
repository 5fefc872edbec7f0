"""An acknowledgement: "I'm on it", a short silence in one person's name that the
acknowledgements job (alertui.acks.job) extends while its alerts fire and lets end once they
have resolved. The silence itself lives in Alertmanager and in the silence mirror; this row is
what alertui knows of it that Alertmanager does not keep (0.25-0.31 drop annotations)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from alertui.clusters import default_name


class Acknowledgement(models.Model):
    class Ending(models.TextChoices):
        RESOLVED = "resolved", "its alerts resolved"
        ENDED_BY_PERSON = "ended", "ended by a person"
        REACHED_END = "reached_end", "its silence ended"
        GONE = "gone", "its silence is gone from Alertmanager"

    # The silence's id; an edit made elsewhere that gives it a new id ends the acknowledgement.
    silence_id = models.CharField(max_length=64, unique=True)
    cluster = models.CharField(max_length=63, default=default_name, db_index=True)
    # PROTECT: a user with history is deactivated, never deleted.
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    person_name = models.CharField(max_length=150)  # a copy, as the badge shows it
    matchers_text = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Each extension moves the end to now + step (the duration the person chose).
    step = models.DurationField()
    # Never extended past this (created_at + ACK_MAX_DURATION).
    max_until = models.DateTimeField()
    # When the job first saw none of its alerts firing (cleared when one fires again).
    resolved_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # When the job last looked at it: a run takes those looked at longest ago first.
    looked_at = models.DateTimeField(null=True, blank=True)
    ending = models.CharField(max_length=16, choices=Ending.choices, blank=True)
    # Raised by every change the job makes: two runs that read the same revision cannot both
    # act on it (compare-and-swap, alertui.acks.job._claim).
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["cluster", "ended_at"])]

    def __str__(self):
        return f"acknowledgement of {self.person_name} ({self.silence_id})"

    @property
    def active(self) -> bool:
        return self.ended_at is None
