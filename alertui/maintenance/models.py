"""Maintenance windows: planned quiet, once or recurring, made into real silences ahead of time.

A window's schedule is kept as the person gave it (local date and time, IANA zone, duration,
recurrence fields); alertui.maintenance.schedule turns it into occurrences in UTC. Each
occurrence is made into one silence per cluster, claimed first by a Materialization row whose
uniqueness on (window, occurrence, cluster) is what keeps it to one whatever runs at once.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from alertui.matchers import Matcher, format_matchers

NAME_MAX = 100


class Window(models.Model):
    class Frequency(models.TextChoices):
        ONCE = "once"
        DAILY = "daily"
        WEEKLY = "weekly"
        MONTHLY = "monthly"

    name = models.CharField(max_length=NAME_MAX)
    # Names the window in its silences' comments: unique even across databases that share an
    # Alertmanager, where ids repeat.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    matchers = models.JSONField(default=list)  # [[name, op, value], ...]
    matchers_text = models.TextField(blank=True)
    comment = models.TextField()
    # Cluster names; the silences are made in each (today one: the configured Alertmanager).
    clusters = models.JSONField(default=list)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    # The schedule, in the window's own zone: the first start, its length, how it repeats.
    start_date = models.DateField()
    start_time = models.TimeField()
    time_zone = models.CharField(max_length=64)
    duration = models.DurationField()
    frequency = models.CharField(max_length=8, choices=Frequency.choices)
    interval = models.PositiveSmallIntegerField(default=1)
    weekdays = models.JSONField(default=list)  # 0 = Monday ... 6 = Sunday, for weekly
    month_day = models.SmallIntegerField(null=True, blank=True)  # 1..31, -1 = last day
    nth = models.SmallIntegerField(null=True, blank=True)  # 1..4 or -1 (last) ...
    nth_weekday = models.SmallIntegerField(null=True, blank=True)  # ... of this weekday
    until = models.DateField(null=True, blank=True)  # last local day an occurrence may start
    count = models.PositiveIntegerField(null=True, blank=True)
    paused = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Raised by each edit: silences made from an older version are brought up to date.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(deleted_at=None), name="maintenance_unique_name"
            )
        ]

    def __str__(self):
        return self.name

    @property
    def matcher_list(self) -> list[Matcher]:
        return [Matcher(*m) for m in self.matchers]

    def set_matchers(self, matchers) -> None:
        self.matchers = [[m.name, m.op, m.value] for m in matchers]
        self.matchers_text = format_matchers(matchers)

    @property
    def active(self) -> bool:
        return not self.paused and self.deleted_at is None


class WindowException(models.Model):
    """One occurrence skipped or moved; `original_start` (UTC) names it."""

    class Kind(models.TextChoices):
        SKIP = "skip"
        MOVE = "move"

    window = models.ForeignKey(Window, on_delete=models.CASCADE, related_name="exceptions")
    original_start = models.DateTimeField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    starts_at = models.DateTimeField(null=True, blank=True)  # a move: the new times, UTC
    ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["window", "original_start"], name="maintenance_one_exception"
            )
        ]

    def __str__(self):
        return f"{self.kind} {self.original_start:%Y-%m-%d %H:%M}Z"


class Materialization(models.Model):
    """One occurrence of a window in one cluster, and the silence made for it."""

    class State(models.TextChoices):
        CLAIMED = "claimed"  # a run is making the silence now (or died making it)
        RETRY = "retry"  # Alertmanager could not be reached; the next run tries again
        CREATED = "created"
        ENDED = "ended"  # expired by alertui: paused, deleted, ended early, dropped by an edit
        MISSED = "missed"  # never made: the occurrence ended before Alertmanager came back

    window = models.ForeignKey(Window, on_delete=models.PROTECT, related_name="materializations")
    occurrence_start = models.DateTimeField()  # the occurrence's key: its scheduled start, UTC
    cluster = models.CharField(max_length=63)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.CLAIMED)
    silence_id = models.CharField(max_length=64, blank=True, db_index=True)
    window_version = models.PositiveIntegerField()
    claimed_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    late = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["occurrence_start", "cluster"]
        constraints = [
            models.UniqueConstraint(
                fields=["window", "occurrence_start", "cluster"],
                name="maintenance_one_silence_per_occurrence",
            )
        ]

    def __str__(self):
        return f"{self.window_id} {self.occurrence_start:%Y-%m-%d %H:%M}Z {self.cluster}"


class WindowChange(models.Model):
    """The window's own history (append-only): who created, edited, paused, resumed, deleted
    it, and what the job could not do (a missed occurrence)."""

    class Action(models.TextChoices):
        CREATED = "created"
        EDITED = "edited"
        PAUSED = "paused"
        RESUMED = "resumed"
        DELETED = "deleted"
        ENDED_EARLY = "ended early"
        SKIPPED = "skipped"
        MOVED = "moved"
        MISSED = "missed"

    window = models.ForeignKey(Window, on_delete=models.PROTECT, related_name="changes")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    actor_name = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=16, blank=True)  # browser, api, job
    note = models.TextField(blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError("window changes are append-only")
        super().save(*args, **kwargs)


class CalendarToken(models.Model):
    """A person's read-only key to the calendar feed, in the feed's URL: only its SHA-256 is
    kept (the URL is shown once), and revoking it ends every subscription made with it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)  # to tell one's tokens apart on the page
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.user_id} {self.prefix}"
