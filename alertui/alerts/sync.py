"""Keep the local snapshot of current alerts in step with Alertmanager.

Each HA peer only knows the alerts Prometheus sent to it, so every peer is read and alerts are
deduplicated by fingerprint (the same on every peer). One peer down is not an outage: the
others are enough; only when none answers is the source marked as failing.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from alertui.alerts.models import Alert, AlertHistory
from alertui.clients import alertmanager_client
from alertui.clusters import Cluster
from alertui.integrations.alertmanager import Alert as AmAlert
from alertui.integrations.alertmanager import AlertmanagerError
from alertui.integrations.alertmanager_answers import AlertItem, digest
from alertui.integrations.values import Unreadable
from alertui.nav import counts as nav_counts
from alertui.stale_silences.matches import record_matches
from alertui.sync import health
from alertui.sync.runs import cluster_sync

logger = logging.getLogger(__name__)

# Prometheus re-sends every firing alert each resend interval, which moves updatedAt and endsAt
# only: those are stored along with other changes but are left out of the digest, so a steady
# sync writes nothing and keeps the pages' cached snapshot.
FIELDS = [
    "digest",
    "problems",
    "snapshot_version",
    "alertname",
    "severity",
    "is_silenced",
    "is_inhibited",
    "labels",
    "annotations",
    "state",
    "silenced_by",
    "inhibited_by",
    "receivers",
    "generator_url",
    "starts_at",
    "updated_at",
    "ends_at",
]


@dataclass
class AlertSyncResult:
    skipped: bool = False
    current: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    error: str = ""
    note: str = ""  # what could not be read (see note())

    def summary(self) -> str:
        return f"{self.current} current (+{self.added} ~{self.changed} -{self.removed})"

    def failures(self) -> list[str]:
        return [self.error] if self.error else []


def fetch_alerts(
    urls: list[str], cluster: str | None = None
) -> tuple[dict[str, AlertItem], list[str], Counter]:
    """Alerts from every peer, deduplicated by fingerprint, identified but not read yet; the
    peers' errors; and why items could not be read (counted once, though every peer of a
    cluster sends the same item)."""
    alerts: dict[str, AlertItem] = {}
    errors = []
    unreadable: Counter = Counter()
    for url in urls:
        client = alertmanager_client([url], cluster=cluster)
        try:
            listed = client.list_alert_items()
        except AlertmanagerError as e:
            errors.append(e.message)
            continue
        for item in listed:
            alerts.setdefault(item.fingerprint, item)
        for reason, count in Counter(listed.unreadable).items():
            unreadable[reason] = max(unreadable[reason], count)
    return alerts, errors, unreadable


def note(unreadable: Counter, partial: list[list[str]]) -> str:
    """What the page says about the alerts this sync could not read, or could read only in
    part (`partial`: each such alert's problems): one bad item must be visible, not a silent
    gap."""
    parts = []
    skipped = sum(unreadable.values())
    if skipped:
        are = "is" if skipped == 1 else "are"
        parts.append(
            f"{_alerts(skipped)} from Alertmanager could not be read and {are} not shown: "
            f"{_reasons(list(unreadable))}."
        )
    if partial:
        parts.append(
            f"{_alerts(len(partial))} from Alertmanager had values alertui could not use; "
            f"those values are left out: {_reasons([p for each in partial for p in each])}."
        )
    return " ".join(parts)


def _alerts(count: int) -> str:
    return f"{count} alert{'' if count == 1 else 's'}"


def _reasons(reasons: list[str], shown: int = 3) -> str:
    text = "; ".join(r[:200] for r in reasons[:shown])
    return text + (f"; and {len(reasons) - shown} more" if len(reasons) > shown else "")


@cluster_sync("alerts", lambda: AlertSyncResult(skipped=True))
def sync_alerts(cluster: Cluster) -> AlertSyncResult:
    """Bring the cluster's alerts in the snapshot in step with its Alertmanagers."""
    run = health.Run(health.ALERTMANAGER_ALERTS, cluster.name)
    urls = cluster.alertmanager_urls
    fetched, errors, unreadable = fetch_alerts(urls, cluster.name)
    if len(errors) == len(urls):
        run.failure("; ".join(errors))
        return AlertSyncResult(error="; ".join(errors))
    result = AlertSyncResult(current=len(fetched))
    now = timezone.now()
    mine = Alert.objects.filter(cluster=cluster.name)
    muting = {silence_id for item in fetched.values() for silence_id in item.silenced_by}
    answer = _answer_key(fetched, unreadable)
    # The steady case: Alertmanager says what it said last time, and the table holds what this
    # sync wrote then (no row changed since: a silence made meanwhile moves the versions).
    key = f"{answer} {_table_key(mine)}"
    last_note = run.same_as_last(key)
    if last_note is not None:
        record_matches(cluster.name, muting, now, changed=False)
        result.note = last_note
        run.success(note=last_note, key=key)
        return result
    with transaction.atomic():
        # Every cluster's sync publishes its changes as the next version of the one snapshot:
        # the database work (not the calls above) is done one cluster after another.
        snapshot = health.locked_snapshot()
        next_version = snapshot.version + 1
        existing = {
            fingerprint: (pk, digest, problems)
            for pk, fingerprint, digest, problems in mine.values_list(
                "pk", "fingerprint", "digest", "problems"
            )
        }
        new, changed, partial, shown = [], [], [], set()
        for fingerprint, item in fetched.items():
            pk, old, problems = existing.get(fingerprint, (None, None, ""))
            if old == item.digest:
                shown.add(fingerprint)
                if problems:
                    partial.append(problems.split("\n"))
                continue
            try:
                row = _row(cluster.name, item.read(), item.digest, next_version)
            except Unreadable as e:
                unreadable[str(e)] += 1
                continue
            shown.add(fingerprint)
            if row.problems:
                partial.append(row.problems.split("\n"))
            if pk is None:
                new.append(row)
            else:
                row.pk = pk
                changed.append(row)
        gone = set(existing) - shown
        Alert.objects.bulk_create(new, batch_size=500)
        Alert.objects.bulk_update(changed, FIELDS, batch_size=500)
        if gone:
            mine.filter(fingerprint__in=gone).delete()
        _record_history(cluster.name, new, gone, now)
        if new or changed or gone:
            health.publish(snapshot)
            nav_counts.alerts_changed(snapshot.version)
    record_matches(cluster.name, muting, now, changed=bool(new or changed or gone))
    result.added, result.changed, result.removed = len(new), len(changed), len(gone)
    result.note = note(unreadable, partial)
    if result.note and result.note != health.note(health.ALERTMANAGER_ALERTS, cluster.name):
        logger.warning("Alertmanager alerts of %s: %s", cluster.name, result.note)
    run.success(
        changed=bool(new or changed or gone), note=result.note, key=f"{answer} {_table_key(mine)}"
    )
    return result


def _answer_key(fetched: dict[str, AlertItem], unreadable: Counter) -> str:
    """A digest of everything the peers said that the snapshot keeps (not updatedAt, endsAt)."""
    said = [f"{fingerprint} {item.digest}" for fingerprint, item in sorted(fetched.items())]
    said += sorted(f"{reason} {count}" for reason, count in unreadable.items())
    return digest("\n".join(said).encode("utf-8", "backslashreplace"))


def _table_key(mine) -> str:
    """The cluster's rows as of now, told apart by how many and the newest version written:
    every writer of the table (this sync, a silence applied at once) moves the version."""
    found = mine.aggregate(rows=Count("pk"), newest=Max("snapshot_version"))
    return f"{found['rows']} {found['newest']}"


def _record_history(cluster: str, started: list[Alert], resolved: set[str], now) -> None:
    """Open a history row for each alert that appeared, close the row of each that went."""
    history = AlertHistory.objects.filter(cluster=cluster, resolved_at__isnull=True)
    open_ones = set(
        history.filter(fingerprint__in=[a.fingerprint for a in started]).values_list(
            "fingerprint", flat=True
        )
    )
    AlertHistory.objects.bulk_create(
        [
            AlertHistory(
                cluster=cluster,
                fingerprint=a.fingerprint,
                alertname=a.alertname,
                labels=a.labels,
                started_at=a.starts_at or now,
            )
            for a in started
            if a.fingerprint not in open_ones  # already open: alertui restarted mid-firing
        ],
        batch_size=500,
    )
    if resolved:
        history.filter(fingerprint__in=resolved).update(resolved_at=now)


def _row(cluster: str, am: AmAlert, digest: str, version: int) -> Alert:
    return Alert(
        cluster=cluster,
        fingerprint=am.fingerprint,
        digest=digest,
        problems="\n".join(p.replace("\n", " ") for p in am.problems),
        snapshot_version=version,
        alertname=am.labels.get("alertname", "")[:255],
        severity=am.labels.get("severity", "")[:64],
        is_silenced=bool(am.silenced_by),
        is_inhibited=bool(am.inhibited_by),
        labels=am.labels,
        annotations=am.annotations,
        state=am.state,
        silenced_by=list(am.silenced_by),
        inhibited_by=list(am.inhibited_by),
        receivers=list(am.receivers),
        generator_url=am.generator_url,
        starts_at=am.starts_at,
        updated_at=am.updated_at,
        ends_at=am.ends_at,
    )
