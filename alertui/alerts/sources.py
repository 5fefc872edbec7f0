"""Bookkeeping of each sync source's health, read by the pages' freshness line and banners."""

from django.utils import timezone

from alertui.alerts.models import SourceStatus

ALERTMANAGER_ALERTS = "alertmanager-alerts"
ALERTMANAGER_SILENCES = "alertmanager-silences"


def record_success(name: str) -> None:
    now = timezone.now()
    SourceStatus.objects.update_or_create(
        name=name,
        defaults={
            "last_attempt_at": now,
            "last_success_at": now,
            "failing_since": None,
            "last_error": "",
        },
    )


def record_failure(name: str, error: str) -> None:
    now = timezone.now()
    status, _ = SourceStatus.objects.get_or_create(name=name)
    status.last_attempt_at = now
    status.failing_since = status.failing_since or now
    status.last_error = error[:2000]
    status.save()
