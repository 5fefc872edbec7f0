from datetime import timedelta

from django.db import models
from django.utils import timezone

from alertui.clusters import default_name
from alertui.matchers import Matcher, format_matchers


class Silence(models.Model):
    """alertui's mirror of an Alertmanager silence.

    Rows are never deleted: a silence Alertmanager has garbage-collected (120h after it ended)
    stays here with `in_alertmanager=False`, so its history can still be read.
    """

    # Alertmanager's id: a random UUID, unique across clusters too.
    id = models.CharField(max_length=64, primary_key=True)
    # The Alertmanager cluster (alertui.clusters) this row is of.
    cluster = models.CharField(max_length=63, default=default_name, db_index=True)
    matchers = models.JSONField(default=list)  # [[name, op, value], ...]
    matchers_text = models.TextField(blank=True)  # `a="b", c=~"d"`, for search and display
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(db_index=True)
    created_by = models.TextField(blank=True)  # Alertmanager's free text, any length
    comment = models.TextField(blank=True)
    updated_at = models.DateTimeField(null=True)
    # The state Alertmanager reported at the last sync; `current_state` recomputes it from the
    # times, since a silence can end between two syncs.
    state = models.CharField(max_length=16, blank=True)
    replaced_by = models.CharField(max_length=64, blank=True)
    in_alertmanager = models.BooleanField(default=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["ends_at"]
        permissions = [("manage_silences", "Can create, edit, extend and expire silences")]

    def __str__(self):
        return f"{self.id} ({self.matchers_text})"

    @property
    def matcher_list(self) -> list[Matcher]:
        return [Matcher(*m) for m in self.matchers]

    def set_matchers(self, matchers) -> None:
        self.matchers = [[m.name, m.op, m.value] for m in matchers]
        self.matchers_text = format_matchers(matchers)

    @property
    def current_state(self) -> str:
        now = timezone.now()
        if self.ends_at <= now:
            return "expired"
        if self.starts_at > now:
            return "pending"
        return "active"

    @property
    def time_left(self):
        return max(self.ends_at - timezone.now(), timedelta(0))
