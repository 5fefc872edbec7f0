"""Retention of alert and target history and of notice deliveries (HISTORY_RETENTION).

The audit is never pruned."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from alertui.alerts.models import AlertHistory
from alertui.notices.models import Delivery, SilenceReminder
from alertui.targets.models import TargetHistory


def prune_history() -> dict:
    cutoff = timezone.now() - timedelta(seconds=settings.HISTORY_RETENTION)
    # Only what has ended before the cutoff: a firing that started long ago and still goes
    # on is kept.
    alerts, _ = AlertHistory.objects.filter(resolved_at__lt=cutoff).delete()
    targets, _ = TargetHistory.objects.filter(up_at__lt=cutoff).delete()
    finished = [Delivery.Status.SENT, Delivery.Status.FAILED]
    deliveries, _ = Delivery.objects.filter(created_at__lt=cutoff, status__in=finished).delete()
    reminders, _ = SilenceReminder.objects.filter(ends_at__lt=cutoff, deliveries=None).delete()
    return {
        "alert_history": alerts,
        "target_history": targets,
        "notice_deliveries": deliveries,
        "silence_reminders": reminders,
    }
