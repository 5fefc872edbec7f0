"""Remind people shortly before a silence that still mutes firing alerts expires.

Run every NOTIFY_REMINDER_INTERVAL by beat. "Still mutes" is read from the alert snapshot the
alerts sync keeps (seconds old). Each (silence, end time) is reminded once: the unique
SilenceReminder row is the claim, so two runs at once cannot both send, and extending a silence
(a new end time) makes a new reminder possible.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from alertui.alerts.models import Alert
from alertui.notices import messages, services
from alertui.notices.models import SilenceReminder
from alertui.silences.models import Silence

log = logging.getLogger(__name__)


def remind_expiring_silences(now: datetime | None = None) -> int:
    """Send the reminders due now; returns how many silences were reminded about."""
    if not services.enabled():
        return 0
    now = now or timezone.now()
    horizon = now + timedelta(seconds=settings.NOTIFY_REMINDER_BEFORE)
    ending = Silence.objects.filter(
        starts_at__lte=now, ends_at__gt=now, ends_at__lte=horizon, in_alertmanager=True
    ).exclude(state="expired")
    due = {s.id: s for s in ending}
    if not due:
        return 0
    for silence_id, ends_at in SilenceReminder.objects.filter(silence_id__in=due).values_list(
        "silence_id", "ends_at"
    ):
        if due.get(silence_id) and due[silence_id].ends_at == ends_at:
            del due[silence_id]
    muted = muted_alertnames(set(due))
    reminded = 0
    for silence_id, silence in due.items():
        names = muted.get(silence_id)
        if names and _remind(silence, names, now):
            reminded += 1
    return reminded


def muted_alertnames(silence_ids: set[str]) -> dict[str, Counter]:
    """For each of `silence_ids`, a Counter of the alertnames of the current alerts it mutes.

    Filtered in Python: SQLite has no JSON "contains", and only silenced alerts are read."""
    found: dict[str, Counter] = {}
    if not silence_ids:
        return found
    rows = Alert.objects.filter(is_silenced=True).values_list("silenced_by", "alertname")
    for silenced_by, alertname in rows.iterator(chunk_size=2000):
        for silence_id in silence_ids.intersection(silenced_by):
            found.setdefault(silence_id, Counter())[alertname or "(no alertname)"] += 1
    return found


def _remind(silence: Silence, names: Counter, now: datetime) -> bool:
    count = sum(names.values())
    alertnames = [name for name, _ in names.most_common(messages.MAX_ALERTNAMES)]
    try:
        with transaction.atomic():
            reminder = SilenceReminder.objects.create(
                silence_id=silence.id, ends_at=silence.ends_at, muted_alerts=count, created_at=now
            )
            notice = messages.reminder_notice(silence, alertnames, count, now)
            services.announce_reminder(reminder, notice)
    except IntegrityError:
        return False  # another run claimed this reminder first
    log.info(
        "reminded that silence %s ends at %s (mutes %d alerts)", silence.id, silence.ends_at, count
    )
    return True
