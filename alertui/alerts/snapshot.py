"""The current alerts as web requests read them: loaded once per snapshot version, then kept.

The sync bumps SourceStatus.version whenever the alert table changes, so each web process
re-reads the table only after a change and answers every other request from memory. Filtering
and grouping 10,000 alerts in memory is a few milliseconds; re-reading them per request is not.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from alertui.alerts import ranking
from alertui.alerts.models import Alert
from alertui.caches import BoundedCache, approx_size
from alertui.integrations import values
from alertui.matchers import CLUSTER, Matcher, matches_all
from alertui.sync.health import SNAPSHOT
from alertui.sync.models import SourceStatus

STATES = ("active", "silenced", "inhibited")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertView:
    cluster: str
    fingerprint: str
    alertname: str
    severity: str
    labels: dict
    annotations: dict
    state: str  # active | silenced | inhibited
    silenced_by: tuple
    inhibited_by: tuple
    starts_at: datetime | None
    generator_url: str
    receivers: tuple
    key: int  # changes whenever anything shown of the alert changes: its rendering's cache key

    @cached_property
    def text(self) -> str:
        """Lower-cased labels and annotations, for free-text search: made at the first search
        that reads it (most views search none), kept with the alert (as long as the alert is
        unchanged, it stays in the next snapshots)."""
        words = [f"{k}={v}" for k, v in self.labels.items()] + list(self.annotations.values())
        words.append(f"{CLUSTER}={self.cluster}")
        return " ".join(words).lower()

    @property
    def summary(self) -> str:
        return self.annotations.get("summary") or self.annotations.get("message") or ""

    @property
    def description(self) -> str:
        return self.annotations.get("description", "")

    @property
    def headline(self) -> str:
        """The one-line text of the row: the summary, else the description."""
        return self.summary or self.description

    @property
    def runbook_url(self) -> str:
        """The runbook link, only when it is an http(s) URL (annotations are anyone's text)."""
        for name in ("runbook_url", "runbook"):
            url = values.http_url(self.annotations.get(name))
            if url:
                return url
        return ""


@dataclass
class AlertGroup:
    label: str
    value: str | None  # None: the alerts lack the label
    alerts: list[AlertView] = field(default_factory=list)

    @property
    def key(self) -> str:
        # Alertmanager drops empty-valued labels, so "" can stand for "no such label".
        return "" if self.value is None else self.value

    @cached_property
    def states(self) -> Counter:
        return Counter(a.state for a in self.alerts)

    @property
    def state_counts(self) -> list[tuple[str, int]]:
        states = self.states
        return [(s, states[s]) for s in STATES if states.get(s)]

    @property
    def severities(self) -> list[tuple[str, int]]:
        counts = Counter(a.severity or "none" for a in self.alerts)
        return sorted(counts.items(), key=lambda kv: (ranking.severity_rank(kv[0]), kv[0]))

    @cached_property
    def common_labels(self) -> dict[str, str]:
        """Labels every alert of the group shares: what a silence for the group should match."""
        if not self.alerts:
            return {}
        common = set(self.alerts[0].labels.items())
        for alert in self.alerts[1:]:
            common &= alert.labels.items()
            if not common:
                break
        return dict(sorted(common))

    @cached_property
    def clusters(self) -> list[str]:
        """The clusters the group's alerts fire in: where a silence for the group belongs."""
        return sorted({a.cluster for a in self.alerts})

    @property
    def all_silenced(self) -> bool:
        """Every alert of the group is muted by a silence: "Silence group" has nothing to do."""
        return self.states.get("silenced", 0) == len(self.alerts)

    @cached_property
    def active_critical(self) -> int:
        return sum(1 for a in self.alerts if a.state == "active" and a.severity == "critical")


_lock = threading.Lock()
_cache: tuple[object, list[AlertView]] = (object(), [])
# Counts the snapshot reloads of this process: a cache key that can never come back.
generation = 0
_generations: dict[int, tuple[list, int]] = {}
# Caches of work derived from one snapshot: emptied whenever it is reloaded.
_per_snapshot: list[BoundedCache] = []


def per_snapshot_cache(name: str, share: float, sizeof=approx_size) -> BoundedCache:
    """A bounded cache (a `share` of ALERTS_CACHE_MB) emptied whenever the snapshot changes;
    its keys should hold the generation too, since a request may finish on the old one."""
    cache = BoundedCache(name, share, sizeof)
    _per_snapshot.append(cache)
    return cache


def _view_size(found) -> int:
    first, second = found
    if isinstance(first, Counter):  # overview(): alerts per state, label names
        return sys.getsizeof(first) + approx_size(second)
    # grouped_view(): lists of references to the snapshot's AlertViews (counted once, there)
    # and the groups, with room for their cached counts and common labels.
    return sys.getsizeof(first) + sum(1000 + sys.getsizeof(g.alerts) for g in second)


# Filtered and grouped views of the snapshot, for the filters people actually use (the default
# view above all, polled by every open tab), and its per-state counts.
_views = per_snapshot_cache("filtered views", 0.2, _view_size)


def generation_of(alerts: list) -> int | None:
    """The reload that produced this list, or None if it is no longer the current one."""
    found = _generations.get(id(alerts))
    return found[1] if found and found[0] is alerts else None


def _state(alert: Alert) -> str:
    if alert.silenced_by:
        return "silenced"
    if alert.inhibited_by:
        return "inhibited"
    return "active"


# What a view is made of (the rest of a row is the sync's bookkeeping).
VIEW_FIELDS = (
    "cluster",
    "fingerprint",
    "alertname",
    "severity",
    "labels",
    "annotations",
    "silenced_by",
    "inhibited_by",
    "starts_at",
    "generator_url",
    "receivers",
)


def _view(alert: Alert) -> AlertView:
    # Label names and most label values (alertname, namespace, job, severity...) repeat across
    # thousands of alerts: one string each, not one per alert, holds the snapshot in less memory.
    labels = {sys.intern(k): sys.intern(v) for k, v in alert.labels.items()}
    annotations = {sys.intern(k): v for k, v in alert.annotations.items()}
    shown = (
        alert.cluster,
        alert.fingerprint,
        tuple(alert.labels.items()),
        tuple(alert.annotations.items()),
        _state(alert),
        tuple(alert.silenced_by),
        tuple(alert.inhibited_by),
        alert.starts_at,
        alert.generator_url,
        tuple(alert.receivers or ()),
    )
    return AlertView(
        cluster=sys.intern(alert.cluster),
        fingerprint=alert.fingerprint,
        alertname=sys.intern(alert.alertname),
        severity=sys.intern(alert.severity),
        labels=labels,
        annotations=annotations,
        state=_state(alert),
        silenced_by=tuple(alert.silenced_by),
        inhibited_by=tuple(alert.inhibited_by),
        starts_at=alert.starts_at,
        generator_url=alert.generator_url,
        receivers=tuple(str(r) for r in alert.receivers or ()),
        key=hash(shown),
    )


def current_alerts() -> list[AlertView]:
    global _cache, generation
    # The version with its change time: a database reset to an earlier version number is not
    # mistaken for the cached snapshot.
    version = (
        SourceStatus.objects.filter(name=SNAPSHOT).values_list("version", "changed_at").first()
    )
    cached_version, alerts = _cache
    if version is not None and version == cached_version:
        return alerts
    with _lock:
        cached_version, cached = _cache
        if version is not None and version == cached_version:
            return cached  # another thread loaded it meanwhile
        alerts = None
        if version is not None and isinstance(cached_version, tuple) and cached_version < version:
            alerts = _updated(cached, cached_version[0], version[0])
        if alerts is None:
            rows = Alert.objects.only(*VIEW_FIELDS).iterator(chunk_size=2000)
            alerts = [_view(a) for a in rows]
        alerts.sort(key=lambda a: (a.starts_at is None, a.starts_at), reverse=True)
        _cache = (version if version is not None else object(), alerts)
        for cache in _per_snapshot:
            cache.clear()
        generation += 1
        _generations.clear()
        _generations[id(alerts)] = (alerts, generation)
    return alerts


def warm() -> None:
    """Load the snapshot now, as a web worker starts (alertui/wsgi.py), so that its first
    request is served from memory instead of reading every alert. Never fails the start: a
    database that is not there yet (or not migrated) leaves the load to the first request."""
    try:
        loaded = current_alerts()
    except Exception:  # noqa: BLE001 - a start must not fail on this
        log.warning("alert snapshot not loaded at start; the first request loads it", exc_info=True)
    else:
        log.info("alert snapshot loaded at start: %d alerts", len(loaded))


def _updated(cached: list[AlertView], since: int, upto: int) -> list[AlertView] | None:
    """The cached snapshot brought up to date by reading only the rows written since: cheap
    when a few alerts of thousands changed, as in every sync but the first."""
    # By cluster and fingerprint: one alert may fire in several clusters.
    current = set(Alert.objects.values_list("cluster", "fingerprint"))
    by_key = {
        (a.cluster, a.fingerprint): a for a in cached if (a.cluster, a.fingerprint) in current
    }
    changed = Alert.objects.filter(snapshot_version__gt=since, snapshot_version__lte=upto).only(
        *VIEW_FIELDS
    )
    for row in changed.iterator(chunk_size=2000):
        by_key[(row.cluster, row.fingerprint)] = _view(row)
    if len(by_key) != len(current):
        return None  # rows written by something other than the sync: read everything
    return list(by_key.values())


def grouped_view(
    matchers: list[Matcher], words: list[str], states: set[str], label: str, keep=None
) -> tuple[list[AlertView], list[AlertView], list[AlertGroup]]:
    """(all current alerts, the selected ones, their groups), cached per snapshot version.
    `keep`, a further test (a reserved filter), makes a view of its own, never cached.

    The alerts list is the snapshot's identity: `generation_of(everything)` names it."""
    everything = current_alerts()
    if keep is not None:
        shown = [a for a in select(everything, matchers, words, states) if keep(a)]
        return everything, shown, group(shown, label)
    generation = generation_of(everything)
    key = (generation, tuple(map(str, matchers)), tuple(words), tuple(sorted(states)), label)
    found = _views.get(key) if generation is not None else None
    if found is None:
        shown = select(everything, matchers, words, states)
        found = (shown, group(shown, label))
        if generation is not None:
            _views.put(key, found)
    return everything, found[0], found[1]


_index: tuple[int | None, dict] = (None, {})


def by_fingerprint(everything: list[AlertView]) -> dict[tuple[str, str], AlertView]:
    """The snapshot's alerts by (cluster, fingerprint) (one index, of the current snapshot
    only): the same fingerprint may fire in several clusters."""
    global _index
    generation = generation_of(everything)
    cached_generation, index = _index
    if generation is None or generation != cached_generation:
        index = {(a.cluster, a.fingerprint): a for a in everything}
        if generation is not None:
            _index = (generation, index)
    return index


def select(
    alerts: list[AlertView], matchers: list[Matcher], words: list[str], states: set[str]
) -> list[AlertView]:
    words = [w.lower() for w in words]
    # @cluster matchers test the alert's cluster; the others its labels.
    on_cluster = [m for m in matchers if m.name == CLUSTER]
    matchers = [m for m in matchers if m.name != CLUSTER]
    return [
        a
        for a in alerts
        if a.state in states
        and matches_all(matchers, a.labels)
        and all(m.matches({CLUSTER: a.cluster}) for m in on_cluster)
        and all(w in a.text for w in words)
    ]


def group(alerts: list[AlertView], label: str) -> list[AlertGroup]:
    groups: dict[str | None, AlertGroup] = {}
    for alert in alerts:
        value = alert.cluster if label == CLUSTER else alert.labels.get(label)
        if value not in groups:
            groups[value] = AlertGroup(label, value)
        groups[value].alerts.append(alert)
    for found in groups.values():
        found.alerts.sort(key=ranking.alert_order)
    return sorted(groups.values(), key=ranking.group_rank)


def overview(everything: list[AlertView]) -> tuple[Counter, list[str]]:
    """(alerts per state, label names by use) of the whole snapshot, computed once per version."""
    generation = generation_of(everything)
    found = _views.get(("overview", generation)) if generation is not None else None
    if found is None:
        found = (counts(everything), label_names(everything))
        if generation is not None:
            _views.put(("overview", generation), found)
    return found


def counts(alerts: list[AlertView]) -> Counter:
    return Counter(a.state for a in alerts)


def label_names(alerts: list[AlertView], limit: int = 200) -> list[str]:
    names = Counter(k for a in alerts[:2000] for k in a.labels)
    return [name for name, _ in names.most_common(limit)]
