"""A silence change, applied to the alert snapshot as soon as Alertmanager confirms it.

Without this, a silence just made shows nowhere until the next alert sync: the alert still
looks active, the nav still counts it as firing, and the silence mutes "0 alerts". The views
and the API call one function here per kind of change, after the silence service returned
(the silence's mirror row is already written by then).

What is applied is alertui's own reading of the change (the silence's matchers against each
alert's labels), and it is only a bridge to the next sync:

- Each row changed here gets a blank digest, so the next sync finds it different from what
  Alertmanager says and rewrites it with Alertmanager's own silencedBy and state. Whatever
  this module got wrong lasts until that sync, no longer.
- It runs under the alert sync lock of the silence's cluster (alertui.sync.runs), waited for
  briefly: a sync that read Alertmanager before the change cannot write its older view over
  the change afterwards (it finishes first, and the change is applied on top). When the lock
  cannot be had in time (a sync held up by a slow peer), nothing is applied and the caller
  says the change shows after the next sync. When Redis does not answer, the change is
  applied without the lock: no sync can take the lock then either (or, were Redis only slow,
  the worst case is an older sync writing over the change, which the sync after it puts
  right).
- Only the alerts of the silence's cluster are touched: a silence mutes alerts of its own
  Alertmanager only.
- The rows and the snapshot's version move in one transaction: web processes reload just the
  rows newer than their cached version (alerts.snapshot), and the counters read the same rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from alertui.alerts.models import Alert
from alertui.locks import LockBusy, serialized
from alertui.matchers import matches_all
from alertui.nav import counts as nav_counts
from alertui.sync import health
from alertui.sync.runs import lock_name

log = logging.getLogger(__name__)

# Seconds a person's change waits for a running alert sync (which normally takes well under
# a second) before leaving the change to the next sync.
LOCK_WAIT = 5
NAMES_KEPT = 5


@dataclass(frozen=True)
class Effect:
    """What a change did to the snapshot."""

    applied: bool  # False: the sync lock was busy; the next sync shows the change
    muted: int = 0  # alerts the silence mutes after the change
    notify_again: int = 0  # alerts no silence or inhibition mutes any more
    alertnames: tuple[str, ...] = field(default=())  # of the alerts muted, the first few


def silence_created(silence) -> Effect:
    """A new silence (or one recreated): the alerts it matches are now muted by it."""
    return _apply(silence=silence)


def silence_expired(silence_id: str) -> Effect:
    """The silence is out of every alert; those it alone muted are active again."""
    return _apply(removed=silence_id)


def silence_replaced(old_id: str, silence) -> Effect:
    """Alertmanager replaced `old_id` with `silence` (matchers or an active start changed)."""
    return _apply(removed=old_id, silence=silence)


def silence_edited(old_id: str, silence) -> Effect:
    """An edit of `old_id` that left `silence`: a replacement when Alertmanager gave it a new
    id, else a change in place (comment, end, a pending silence's start)."""
    if silence.id != old_id:
        return silence_replaced(old_id, silence)
    return _apply(silence=silence, touch=True)


def silence_extended(old_id: str, silence) -> Effect:
    """A later end: nothing changes in what is muted, but pages showing the time left of the
    silence's alerts are refreshed (the version moves when it mutes any)."""
    return silence_edited(old_id, silence)


def _apply(*, removed: str | None = None, silence=None, touch: bool = False) -> Effect:
    from alertui.silences.services import cluster_of

    cluster = silence.cluster if silence is not None else cluster_of(removed)
    try:
        with serialized(lock_name("alerts", cluster), wait=LOCK_WAIT):
            return _write(cluster, removed, silence, touch)
    except LockBusy:
        log.warning("alert sync busy: a silence change shows on the alerts page at the next sync")
        return Effect(applied=False)


def _write(cluster: str, removed: str | None, silence, touch: bool) -> Effect:
    now = timezone.now()
    added = silence.id if silence is not None else None
    active = silence is not None and silence.starts_at <= now < silence.ends_at
    matchers = silence.matcher_list if active else []
    rows = Alert.objects.filter(cluster=cluster).only(
        "fingerprint", "alertname", "labels", "silenced_by", "inhibited_by"
    )
    if added is None:
        rows = rows.exclude(silenced_by=[])  # only an alert something mutes can lose it
    with transaction.atomic():
        status = health.locked_snapshot()
        version = status.version + 1
        changed, muted, names, notify_again = [], 0, [], 0
        for alert in rows.iterator(chunk_size=2000):
            before = list(alert.silenced_by)
            after = [s for s in before if s != removed]
            mutes = active and matches_all(matchers, alert.labels)
            if mutes and added not in after:
                after.append(added)
            elif not mutes and added in after:
                after.remove(added)
            if mutes:
                muted += 1
                if len(names) < NAMES_KEPT and alert.alertname not in names:
                    names.append(alert.alertname)
            if after == before:
                continue
            if before and not after and not alert.inhibited_by:
                notify_again += 1
            _mark(alert, after, version)
            changed.append(alert)
        fields = ["silenced_by", "is_silenced", "state", "digest", "snapshot_version"]
        Alert.objects.bulk_update(changed, fields, batch_size=500)
        if changed or (touch and muted):
            status.version = version
            status.changed_at = now
            status.save(update_fields=["version", "changed_at"])
            nav_counts.alerts_changed(version)
    return Effect(True, muted, notify_again, tuple(names))


def _mark(alert: Alert, silenced_by: list[str], version: int) -> None:
    """The row as Alertmanager would show it, with a digest the next sync cannot match."""
    alert.silenced_by = silenced_by
    alert.is_silenced = bool(silenced_by)
    alert.state = "suppressed" if silenced_by or alert.inhibited_by else "active"
    alert.digest = ""
    alert.snapshot_version = version


def muted_only_by(silence_id: str) -> tuple[int, int]:
    """(alerts that would notify again if this silence ended, alerts it mutes along with
    another silence or an inhibition): the expire confirmation's numbers, from the snapshot."""
    alone = shared = 0
    rows = Alert.objects.exclude(silenced_by=[]).values_list("silenced_by", "inhibited_by")
    for silenced_by, inhibited_by in rows.iterator(chunk_size=2000):
        if silence_id not in silenced_by:
            continue
        if len(silenced_by) == 1 and not inhibited_by:
            alone += 1
        else:
            shared += 1
    return alone, shared
