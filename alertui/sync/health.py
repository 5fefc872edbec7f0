"""Bookkeeping of each sync source's health: the pages' freshness line and outage banners,
and alertui's own /metrics. A source is one kind of sync of one cluster (`Run(kind, cluster)`),
or one Prometheus server of a cluster (`Run("prometheus", cluster, url)`)."""

import time

from django.db.models import F
from django.utils import timezone

from alertui.sync.models import SourceStatus

ALERTMANAGER_ALERTS = "alertmanager-alerts"
ALERTMANAGER_SILENCES = "alertmanager-silences"
PROMETHEUS = "prometheus"
# The row counting changes of the alerts table of every cluster (see SourceStatus).
SNAPSHOT = "alertmanager-alerts"
SNAPSHOT_KIND = "snapshot"


def name(kind: str, cluster: str, url: str = "") -> str:
    return f"{kind} {cluster}{f' {url}' if url else ''}"[:255]


def sources():
    """Every source's health row (the snapshot counter is none)."""
    return SourceStatus.objects.exclude(kind=SNAPSHOT_KIND).exclude(kind="")


def locked_snapshot() -> SourceStatus:
    """The snapshot counter, locked for the caller's transaction: writers of the alerts table
    publish one version after another."""
    SourceStatus.objects.get_or_create(name=SNAPSHOT, defaults={"kind": SNAPSHOT_KIND})
    return SourceStatus.objects.select_for_update().get(name=SNAPSHOT)


def publish(snapshot: SourceStatus) -> None:
    """The alerts table changed: bump the counter (inside the transaction that changed it)."""
    snapshot.version += 1
    snapshot.changed_at = timezone.now()
    snapshot.save(update_fields=["version", "changed_at"])


class Run:
    """Times one sync run of a source; the sync calls success() or failure() at its end."""

    def __init__(self, kind: str, cluster: str, url: str = ""):
        self.name = name(kind, cluster, url)
        self.fields = {"kind": kind, "cluster": cluster, "url": url}
        self.started = time.monotonic()

    def _row(self) -> SourceStatus:
        status, _ = SourceStatus.objects.get_or_create(name=self.name, defaults=self.fields)
        return status

    def same_as_last(self, key: str) -> str | None:
        """The note of the last run when it succeeded and ended with this `key` too (what the
        source said, and what the database held after it), so this run has nothing to compare
        or write; None when anything may differ."""
        found = SourceStatus.objects.filter(
            name=self.name, answer_key=key, failing_since=None
        ).values_list("note", flat=True)
        return found[0] if key and found else None

    def success(self, changed: bool = False, note: str = "", key: str = "") -> None:
        """`key`: see same_as_last ("": none, the next run compares everything)."""
        now = timezone.now()
        status = self._row()
        status.answer_key = key[:255]
        status.note = note[:2000]
        status.last_attempt_at = now
        status.last_success_at = now
        status.failing_since = None
        status.last_error = ""
        status.last_duration = time.monotonic() - self.started
        status.runs += 1
        if changed:
            status.version += 1
            status.changed_at = now
        status.save()

    def failure(self, error: str) -> None:
        now = timezone.now()
        self._row()
        # F() updates: two processes failing at once must both count.
        SourceStatus.objects.filter(name=self.name).update(
            answer_key="",
            last_attempt_at=now,
            last_error=error[:2000],
            last_duration=time.monotonic() - self.started,
            runs=F("runs") + 1,
            errors=F("errors") + 1,
        )
        SourceStatus.objects.filter(name=self.name, failing_since__isnull=True).update(
            failing_since=now
        )


def note(kind: str, cluster: str | None = None) -> str:
    """What the last successful runs of `kind` (of `cluster`, or of every cluster) could not
    read, or "": each cluster's note starts with its name when there are several."""
    from alertui import clusters

    rows = sources().filter(kind=kind).exclude(note="")
    if cluster is not None:
        rows = rows.filter(cluster=cluster)
    several = cluster is None and len(clusters.configured()) > 1
    found = rows.order_by("cluster").values_list("cluster", "note")
    return " ".join(f"{c}: {n}" if several else n for c, n in found)
