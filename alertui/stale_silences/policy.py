"""The stale-silence policy: expire active silences that have muted no alert for
SILENCE_STALE_EXPIRE_HOURS (off when 0, the default).

Run by the beat (tasks.expire_stale_silences) or `manage.py expire_stale_silences`. Each expiry
goes through silences.services with the policy as its actor, so it is audited like any other
and announced (notices) naming the silence's creator. A cluster whose alerts sync is not
succeeding is left alone: "muted nothing" is only known from a fresh alert snapshot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from alertui.audit.models import AuditEvent
from alertui.locks import exclusive
from alertui.silences import services
from alertui.silences.models import Silence
from alertui.silences.recorder import Actor
from alertui.sync import health
from alertui.sync.models import SourceStatus

log = logging.getLogger(__name__)

# The audit's source for changes the policy makes (nobody clicked anything).
SOURCE = AuditEvent.Source.POLICY
# Most silences one run expires: a mistake (a broken alert pipeline) cannot end them all at once.
MAX_PER_RUN = 50
# An alerts sync older than this is not trusted to say a silence mutes nothing.
FRESH_SYNC = timedelta(minutes=5)


def policy_actor(hours: int) -> Actor:
    return Actor(
        user=None,
        source=SOURCE,
        label=f"stale-silence policy (muted no alert for {hours} h)",
    )


def stale(cutoff: datetime, now: datetime):
    """Active silences that have muted no alert since before `cutoff`. On since before it too:
    a pending silence whose start was moved keeps its id, and its "quiet since" its first
    start, so quiet_since alone could call a silence that started minutes ago stale."""
    return Silence.objects.filter(
        starts_at__lte=min(now, cutoff),
        ends_at__gt=now,
        in_alertmanager=True,
        match__muting=False,
        match__quiet_since__lte=cutoff,
    ).exclude(state="expired")


def fresh_clusters(now: datetime) -> set[str]:
    """The clusters whose alerts sync succeeded lately and is not failing."""
    rows = SourceStatus.objects.filter(
        kind=health.ALERTMANAGER_ALERTS,
        failing_since__isnull=True,
        last_success_at__gte=now - FRESH_SYNC,
    )
    return set(rows.values_list("cluster", flat=True))


@dataclass
class Report:
    enabled: bool = True
    busy: bool = False
    expired: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped_clusters: list[str] = field(default_factory=list)


def expire_stale(now: datetime | None = None) -> Report:
    hours = settings.SILENCE_STALE_EXPIRE_HOURS
    if not hours:
        return Report(enabled=False)
    report = Report()
    with exclusive("stale-silence-policy") as acquired:
        if not acquired:
            report.busy = True
            return report
        now = now or timezone.now()
        candidates = list(stale(now - timedelta(hours=hours), now).order_by("starts_at"))
        fresh = fresh_clusters(now)
        report.skipped_clusters = sorted({s.cluster for s in candidates} - fresh)
        actor = policy_actor(hours)
        cutoff = now - timedelta(hours=hours)
        for silence in [s for s in candidates if s.cluster in fresh][:MAX_PER_RUN]:
            if not stale(cutoff, timezone.now()).filter(pk=silence.pk).exists():
                continue  # it muted an alert (or was changed) since the list was read
            try:
                services.expire_silence(actor, silence.id)
            except services.SilenceActionError as e:
                log.warning("stale silence %s not expired: %s", silence.id, e.message)
                report.failed.append(f"{silence.id}: {e.message}")
            else:
                log.info("expired stale silence %s of %s", silence.id, silence.created_by)
                report.expired.append(silence.id)
    return report
