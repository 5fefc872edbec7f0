"""Bookkeeping of each sync source's health: the pages' freshness line and outage banners,
and alertui's own /metrics."""

import time

from django.db.models import F
from django.utils import timezone

from alertui.alerts.models import SourceStatus

ALERTMANAGER_ALERTS = "alertmanager-alerts"
ALERTMANAGER_SILENCES = "alertmanager-silences"


def prometheus(url: str) -> str:
    return f"prometheus {url}"


class Run:
    """Times one sync run of a source; the sync calls success() or failure() at its end."""

    def __init__(self, name: str):
        self.name = name
        self.started = time.monotonic()

    def success(self, changed: bool = False, note: str = "") -> None:
        now = timezone.now()
        status, _ = SourceStatus.objects.get_or_create(name=self.name)
        status.note = note[:2000]
        status.last_attempt_at = now
        status.last_success_at = now
        status.failing_since = None
        status.last_error = ""
        status.last_duration = time.monotonic() - self.started
        status.runs += 1
        if changed:
            status.version += 1
            status.changed_at = now
        status.save()

    def failure(self, error: str) -> None:
        now = timezone.now()
        SourceStatus.objects.get_or_create(name=self.name)
        # F() updates: two processes failing at once must both count.
        SourceStatus.objects.filter(name=self.name).update(
            last_attempt_at=now,
            last_error=error[:2000],
            last_duration=time.monotonic() - self.started,
            runs=F("runs") + 1,
            errors=F("errors") + 1,
        )
        SourceStatus.objects.filter(name=self.name, failing_since__isnull=True).update(
            failing_since=now
        )


def note(name: str) -> str:
    """What the source's last successful run could not read, or ""."""
    found = SourceStatus.objects.filter(name=name).values_list("note", flat=True).first()
    return found or ""


def record_success(name: str, changed: bool = False) -> None:
    Run(name).success(changed)


def record_failure(name: str, error: str) -> None:
    Run(name).failure(error)
