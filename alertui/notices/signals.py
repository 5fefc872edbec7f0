"""Announce recorded silence changes: the deliveries are written with the audit row, and queued
once it is committed.

Connected in NoticesConfig.ready(). Nothing here may raise into the silence action that wrote
the row: a notice is a courtesy, the change and its audit row are what count. Nothing here may
wait long on the broker either (see CELERY_TASK_PUBLISH_RETRY_POLICY in settings): a delivery
that could not be queued stays pending and the sweep (services.requeue_stalled) queues it later.
"""

import logging

from django.db import transaction

from alertui.notices import services

log = logging.getLogger(__name__)


def audit_event_saved(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    try:
        if services.enabled() and services.is_announced(instance):
            # In the change's own transaction (a savepoint, so a failure here leaves the change
            # whole): the deliveries are committed with the audit row or not at all, so a broker
            # that is down or hangs when they are queued after the commit loses nothing.
            with transaction.atomic():
                services.announce(instance)
    except Exception:  # noqa: BLE001
        log.exception("could not record the notices for audit event %s", instance.pk)


def window_change_saved(sender, instance, created, raw=False, **kwargs):
    """A maintenance window's own change: announced the same way, with the same guarantees."""
    if not created or raw:
        return
    try:
        if services.enabled():
            with transaction.atomic():
                services.announce_window_change(instance)
    except Exception:  # noqa: BLE001
        log.exception("could not record the notices for window change %s", instance.pk)
