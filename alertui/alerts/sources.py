"""Bookkeeping of each sync source's health, read by the pages' freshness line and banners."""

from django.utils import timezone

from alertui.alerts.models import SourceStatus

ALERTMANAGER_ALERTS = "alertmanager-alerts"
ALERTMANAGER_SILENCES = "alertmanager-silences"


def prometheus(url: str) -> str:
    return f"prometheus {url}"


def record_success(name: str, changed: bool = False) -> None:
    now = timezone.now()
    status, _ = SourceStatus.objects.get_or_create(name=name)
    status.last_attempt_at = now
    status.last_success_at = now
    status.failing_since = None
    status.last_error = ""
    if changed:
        status.version += 1
    status.save()


def record_failure(name: str, error: str) -> None:
    now = timezone.now()
    status, _ = SourceStatus.objects.get_or_create(name=name)
    status.last_attempt_at = now
    status.failing_since = status.failing_since or now
    status.last_error = error[:2000]
    status.save()
