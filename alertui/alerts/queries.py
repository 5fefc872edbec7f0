"""What other features ask of the current alerts, answered from the snapshot (alerts.snapshot),
the one read model of alerts: the silence form's preview, a silence's page, the silences list.

No reader scans the alert table per request: the snapshot is loaded once per sync (and at a
worker's start), and what depends only on it is computed once per snapshot and kept in its
bounded caches, emptied when the next sync changes it.
"""

from __future__ import annotations

import sys
from collections import Counter

from alertui.alerts import snapshot
from alertui.matchers import Matcher, matches_all

PREVIEW_LIMIT = 50


def matching(
    matchers: list[Matcher], cluster: str | None = None, limit: int = PREVIEW_LIMIT
) -> tuple[list[snapshot.AlertView], Counter]:
    """The first `limit` current alerts these matchers match (newest first; of one cluster when
    named), and how many match in each cluster."""
    shown, per_cluster = [], Counter()
    for alert in snapshot.current_alerts():
        if cluster is not None and alert.cluster != cluster:
            continue
        if matches_all(matchers, alert.labels):
            per_cluster[alert.cluster] += 1
            if len(shown) < limit:
                shown.append(alert)
    return shown, per_cluster


def _counts_size(counts: Counter) -> int:
    return sys.getsizeof(counts) + sum(sys.getsizeof(k) + 28 for k in counts)


_muted = snapshot.per_snapshot_cache("alerts muted per silence", 0.05, _counts_size)


def muted_counts() -> Counter:
    """How many current alerts each silence mutes, by silence id: counted once per snapshot."""
    everything = snapshot.current_alerts()
    generation = snapshot.generation_of(everything)
    found = _muted.get(generation) if generation is not None else None
    if found is None:
        found = Counter(sid for a in everything for sid in set(a.silenced_by))
        if generation is not None:
            _muted.put(generation, found)
    return found
