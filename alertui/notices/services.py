"""Which changes are announced, to where, and one delivery attempt at a time.

The Celery tasks in tasks.py are thin wrappers over these functions, so tests and a shell can
call them directly.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from alertui.audit.models import AuditEvent
from alertui.notices import messages
from alertui.notices.delivery import NoticeFailed, post_json
from alertui.notices.models import Delivery, SilenceReminder

log = logging.getLogger(__name__)
Action = AuditEvent.Action

# "ended" (reached its end time) is left out: nobody did anything, and the reminder already
# warned about it. Failed attempts changed nothing, so they are not announced either.
ANNOUNCED = {
    Action.CREATED,
    Action.RECREATED,
    Action.EDITED,
    Action.REPLACED,
    Action.EXTENDED,
    Action.EXPIRED,
}


# A change the sync job found in Alertmanager that was made longer ago than this is history,
# not news: the first sync of an existing Alertmanager would otherwise announce every silence.
SYNC_NEWS_WINDOW = timedelta(hours=1)


class RetryLater(Exception):
    """The attempt failed in a way worth retrying; the task schedules the retry."""


def enabled() -> bool:
    return bool(settings.NOTIFY_SLACK_WEBHOOK_URL or settings.NOTIFY_WEBHOOK_URLS)


def is_announced(event: AuditEvent, now: datetime | None = None) -> bool:
    if event.outcome != AuditEvent.Outcome.SUCCEEDED or event.action not in ANNOUNCED:
        return False
    now = now or timezone.now()
    # A silence that had already ended when recorded (the sync job meeting a short silence
    # made between two syncs) is history, not news; so is an old change the sync job finds.
    if event.action != Action.EXPIRED and event.ends_at and event.ends_at <= now:
        return False
    if event.source == AuditEvent.Source.SYNC and event.at < now - SYNC_NEWS_WINDOW:
        return False
    if (
        event.source == AuditEvent.Source.ACKNOWLEDGEMENT
        and event.action == Action.EXTENDED
        and not event.note
    ):
        # An acknowledgement is extended every few minutes while its alerts fire: only the
        # last extension (its note says it reached its maximum) is news.
        return False
    return True


def _host(url: str) -> str:
    parts = urlsplit(url)  # host and port only: a webhook URL may carry credentials
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def destinations() -> list[tuple[str, str, str]]:
    """(channel, target, destination shown to operators) for each configured URL."""
    found = []
    if settings.NOTIFY_SLACK_WEBHOOK_URL:
        found.append((Delivery.Channel.SLACK, "slack", "slack"))
    for index, url in enumerate(settings.NOTIFY_WEBHOOK_URLS):
        found.append((Delivery.Channel.WEBHOOK, f"webhook:{index}", _host(url)))
    return found


def _url(delivery: Delivery) -> str:
    """The URL for a delivery, read from the settings now; "" if it is no longer configured."""
    if delivery.target == "slack":
        return settings.NOTIFY_SLACK_WEBHOOK_URL
    urls = settings.NOTIFY_WEBHOOK_URLS
    index = int(delivery.target.partition(":")[2])
    if index < len(urls) and _host(urls[index]) == delivery.destination:
        return urls[index]
    return ""


# -- fan-out ------------------------------------------------------------------------------


def announce(event: AuditEvent) -> int:
    """Create one pending Delivery per destination for a recorded change, queued once the
    transaction commits; returns how many were created (0 when run again for the same event)."""
    if not enabled() or event.action not in ANNOUNCED:
        return 0
    if event.outcome != AuditEvent.Outcome.SUCCEEDED:
        return 0
    return _fan_out(messages.event_notice(event), event=event)


def announce_event(event_id: int) -> int:
    """announce() by id, for the send_notice task (queued by earlier versions)."""
    event = AuditEvent.objects.filter(pk=event_id).first()
    return announce(event) if event is not None else 0


def announce_reminder(reminder: SilenceReminder, notice: dict) -> int:
    return _fan_out(notice, reminder=reminder)


def announce_window_change(change) -> int:
    """One pending Delivery per destination for a maintenance window's own change (0 when run
    again for the same change)."""
    from alertui.maintenance import notices as window_notices

    if not enabled():
        return 0
    notice = window_notices.window_notice(change)
    return _fan_out(notice, slack=window_notices.slack_payload, window_change=change)


def _fan_out(notice: dict, slack=messages.slack_payload, **owner) -> int:
    created_ids = []
    with transaction.atomic():
        for channel, target, destination in destinations():
            payload = slack(notice) if channel == "slack" else notice
            delivery, created = Delivery.objects.get_or_create(
                target=target,
                **owner,
                defaults={
                    "kind": notice["kind"],
                    "silence_id": notice["silence_id"],
                    "channel": channel,
                    "destination": destination,
                    "payload": payload,
                },
            )
            if created:
                created_ids.append(delivery.pk)
        if created_ids:
            transaction.on_commit(partial(queue_deliveries, created_ids), robust=True)
    return len(created_ids)


def queue_deliveries(delivery_ids: list[int]) -> int:
    """Queue each delivery; stops at the first the broker refuses, so a broker that hangs costs
    one bounded wait, not one per destination. Returns how many were queued; the others stay as
    they are for the sweep."""
    for queued, delivery_id in enumerate(delivery_ids):
        if not queue_delivery(delivery_id):
            return queued
    return len(delivery_ids)


def queue_delivery(delivery_id: int) -> bool:
    from alertui.notices.tasks import deliver

    try:
        deliver.delay(delivery_id)
    except Exception:  # noqa: BLE001 - the broker being down must not break the caller
        log.exception("could not queue notice delivery %s; the sweep queues it later", delivery_id)
        return False
    return True


# -- one attempt --------------------------------------------------------------------------


def attempt(delivery_id: int, *, last_try: bool) -> str:
    """Send one delivery once; returns its new status, or raises RetryLater."""
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None or delivery.status in (Delivery.Status.SENT, Delivery.Status.FAILED):
        return delivery.status if delivery else "missing"
    Delivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    delivery.refresh_from_db(fields=["attempts"])
    url = _url(delivery)
    try:
        if not url:
            raise NoticeFailed("destination no longer configured", retryable=False)
        post_json(url, delivery.payload)
    except NoticeFailed as e:
        retry = e.retryable and not last_try
        log.warning(
            "notice %s for silence %s to %s failed (attempt %d, %s): %s",
            delivery.kind,
            delivery.silence_id,
            delivery.destination,
            delivery.attempts,
            "will retry" if retry else "giving up",
            e.message,
        )
        status = Delivery.Status.RETRYING if retry else Delivery.Status.FAILED
        _record(delivery, status, e.message)
        if retry:
            raise RetryLater(e.message) from None
        return status
    _record(delivery, Delivery.Status.SENT, "", sent_at=timezone.now())
    return Delivery.Status.SENT


def _record(delivery: Delivery, status: str, error: str, **fields) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status, last_error=error[:1000], updated_at=timezone.now(), **fields
    )


# -- deliveries the broker lost -----------------------------------------------------------

# A pending delivery older than this was never picked up (the broker was down when it was
# queued, or lost the message); a retrying one not touched for longer than the longest backoff
# lost its scheduled retry.
STALLED_PENDING = timedelta(minutes=5)


def requeue_stalled(now: datetime | None = None) -> int:
    """Queue again the deliveries nobody is working on; returns how many."""
    from alertui.notices.tasks import BACKOFF_MAX

    now = now or timezone.now()
    stalled = Delivery.objects.filter(
        Q(status=Delivery.Status.PENDING, created_at__lt=now - STALLED_PENDING)
        | Q(
            status=Delivery.Status.RETRYING,
            updated_at__lt=now - STALLED_PENDING - timedelta(seconds=BACKOFF_MAX),
        )
    )
    # Oldest first: notices of one silence arrive in the order its changes happened.
    ids = list(stalled.order_by("created_at", "pk").values_list("pk", flat=True)[:1000])
    queued = 0
    for delivery_id in ids:
        # Touch it first, so the next sweep does not queue it again while it waits.
        Delivery.objects.filter(pk=delivery_id).update(updated_at=now, created_at=now)
        if not queue_delivery(delivery_id):
            break  # the broker is still away: the next sweep tries again
        queued += 1
    if queued:
        log.warning("queued %d stalled notice deliveries again", queued)
    return queued
