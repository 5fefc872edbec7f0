"""When each silence last muted an alert: kept by the alerts sync, read by the silence list and
the stale-silence policy.

The alerts sync hands over which silences mute some alert now (the alerts' silencedBy); only
the silences whose state flips (started or stopped muting) and the silences seen for the first
time are written, so a steady sync writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q

from alertui.alerts.models import AlertHistory
from alertui.matchers import matches_all
from alertui.silences.models import Silence
from alertui.stale_silences.models import SilenceMatch

# Bounds on the one-off look into the alert history for silences that get their row: how many
# silences per sync, and how many history rows (newest first) are read for them.
NEW_PER_RUN = 500
HISTORY_ROWS = 20_000


def record_matches(cluster: str, muting: Iterable[str], now: datetime, *, changed: bool) -> None:
    """`muting`: the ids of the silences that mute some alert of `cluster` now; `changed`:
    whether the alerts changed since the last sync (else only new silences are looked at)."""
    muting = set(muting)
    if changed:
        mine = SilenceMatch.objects.filter(silence__cluster=cluster)
        was = set(mine.filter(muting=True).values_list("pk", flat=True))
        # Compared here and written in chunks: a query parameter per silence would outgrow
        # the database's limit with tens of thousands of muting silences.
        for chunk in _chunks(muting - was):
            SilenceMatch.objects.filter(pk__in=chunk, muting=False).update(
                muting=True, last_matched_at=now, quiet_since=None, updated_at=now
            )
        for chunk in _chunks(was - muting):
            SilenceMatch.objects.filter(pk__in=chunk).update(
                muting=False, last_matched_at=now, quiet_since=now, updated_at=now
            )
    unseen = list(
        Silence.objects.filter(cluster=cluster, ends_at__gt=now, match__isnull=True)
        .order_by("starts_at")
        .only("id", "matchers", "starts_at")[:NEW_PER_RUN]
    )
    if not unseen:
        return
    quiet = [s for s in unseen if s.id not in muting]
    last = _last_matches_in_history(cluster, quiet, now)
    rows = []
    for silence in unseen:
        if silence.id in muting:
            rows.append(SilenceMatch(silence=silence, muting=True, last_matched_at=now))
        else:
            at = last.get(silence.id)
            rows.append(
                SilenceMatch(
                    silence=silence,
                    muting=False,
                    last_matched_at=at,
                    quiet_since=at or silence.starts_at,
                    updated_at=now,
                )
            )
    SilenceMatch.objects.bulk_create(rows, ignore_conflicts=True)


def _chunks(ids: set[str], size: int = 500):
    ordered = sorted(ids)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def _last_matches_in_history(cluster: str, silences: list[Silence], now) -> dict[str, datetime]:
    """For silences alertui had not watched yet (made before this feature, or between two
    syncs): the last time an alert they match was firing while they were on, from the stored
    alert history (bounded: the newest HISTORY_ROWS firings)."""
    found: dict[str, datetime] = {}
    if not silences:
        return found
    earliest = min(s.starts_at for s in silences)
    history = (
        AlertHistory.objects.filter(cluster=cluster)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=earliest))
        .order_by("-started_at")
        .values_list("labels", "started_at", "resolved_at")[:HISTORY_ROWS]
    )
    matchers = {s.id: (s.matcher_list, s.starts_at) for s in silences}
    for labels, started_at, resolved_at in history.iterator(chunk_size=2000):
        ended = min(resolved_at or now, now)
        for silence_id, (silence_matchers, starts_at) in matchers.items():
            if ended <= starts_at or started_at > now:
                continue
            if found.get(silence_id, starts_at) >= ended:
                continue
            if matches_all(silence_matchers, labels):
                found[silence_id] = ended
    return found
