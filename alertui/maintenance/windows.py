"""Reading windows: their schedule with its exceptions, and the occurrences coming up."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from alertui.maintenance.models import Window
from alertui.maintenance.schedule import Change, Occurrence, Schedule, next_occurrences, occurrences


def changes_of(window: Window) -> list[Change]:
    return [
        Change(e.original_start, e.kind, e.starts_at, e.ends_at) for e in window.exceptions.all()
    ]


def upcoming(window: Window, n: int = 5, now: datetime | None = None) -> list[Occurrence]:
    """The next `n` occurrences not yet ended, the running one first."""
    return next_occurrences(Schedule.of(window), now or timezone.now(), n, changes_of(window))


def between(window: Window, after: datetime, before: datetime) -> list[Occurrence]:
    return occurrences(Schedule.of(window), after, before, changes_of(window))
