"""Announce recorded silence changes: queue the notice once the audit row is committed.

Connected in NoticesConfig.ready(). Nothing here may raise into the silence action that wrote
the row: a notice is a courtesy, the change and its audit row are what count.
"""

import logging
from functools import partial

from django.db import transaction

from alertui.notices import services

log = logging.getLogger(__name__)


def audit_event_saved(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    try:
        if services.enabled() and services.is_announced(instance):
            # After commit: the worker must find the row, and a rolled-back change is no news.
            transaction.on_commit(partial(queue_notice, instance.pk), robust=True)
    except Exception:  # noqa: BLE001
        log.exception("could not queue a notice for audit event %s", instance.pk)


def queue_notice(event_id: int) -> None:
    from alertui.notices.tasks import send_notice

    try:
        send_notice.delay(event_id)
    except Exception:  # noqa: BLE001 - e.g. the broker is down
        log.exception("could not queue a notice for audit event %s", event_id)
