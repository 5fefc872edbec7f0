"""What an alert's row shows beyond the alert itself: the silences muting it (who, why, until
when) and the alerts inhibiting it (name and labels).

Alertmanager gives only ids: `silencedBy` silence ids and `inhibitedBy` fingerprints. The
silences are read from alertui's mirror of them, for the alerts on the page only; the
inhibiting alerts from the same snapshot as the page. Either may be missing (a silence made a
moment ago and not yet mirrored, an inhibiting alert that resolved or that another
Alertmanager holds): the row then says so rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alertui.alerts import snapshot
from alertui.integrations import values

SHOWN_PER_ROW = 5  # silences or inhibitors named per alert; more are counted


@dataclass(frozen=True)
class SilenceInfo:
    id: str
    created_by: str
    comment: str
    ends_at: datetime | None
    found: bool = True  # False: alertui has no copy of this silence (yet)
    # The maintenance window that made it, if one did: the row links to the window.
    window_id: int | None = None
    window_name: str = ""
    # May the viewer extend and expire it (roles and alertui.scopes)? Part of the cache keys,
    # so rows are shared by everyone with the same rights over these silences, never wider.
    may_change: bool = False
    # An acknowledgement (alertui.acks) still going: who acknowledged, and when (absolute: the
    # page shows "how long ago" in the browser, so the cached row stays right).
    ack_by: str = ""
    acked_at: datetime | None = None

    @property
    def linkable(self) -> bool:
        return values.ID.fullmatch(self.id) is not None


@dataclass(frozen=True)
class Inhibitor:
    fingerprint: str
    alert: snapshot.AlertView | None  # None: not among the current alerts alertui read

    @property
    def labels(self) -> list[tuple[str, str]]:
        if self.alert is None:
            return []
        return [(k, v) for k, v in sorted(self.alert.labels.items()) if k != "alertname"]

    @property
    def linkable(self) -> bool:
        return values.ID.fullmatch(self.fingerprint) is not None


def silences_for(alerts, access=None) -> dict[str, SilenceInfo]:
    """The mirrored silences muting these alerts, by id, each saying whether the viewer whose
    `access` (alertui.scopes) is given may change it."""
    from alertui.matchers import Matcher
    from alertui.silences.models import Silence

    wanted = {sid for a in alerts for sid in a.silenced_by[:SHOWN_PER_ROW] if isinstance(sid, str)}
    if not wanted:
        return {}
    rows = Silence.objects.filter(id__in=wanted).values_list(
        "id", "created_by", "comment", "ends_at", "matchers", "cluster"
    )
    windows = _made_by_windows(wanted)
    acks = _acknowledgements(wanted)
    return {
        sid: SilenceInfo(
            sid,
            who or "",
            why or "",
            end,
            True,
            *windows.get(sid, (None, "")),
            may_change=access is not None
            and access.may_change([Matcher(*m) for m in matchers], cluster),
            ack_by=acks.get(sid, ("", None))[0],
            acked_at=acks.get(sid, ("", None))[1],
        )
        for sid, who, why, end, matchers, cluster in rows
    }


def _made_by_windows(silence_ids) -> dict[str, tuple[int, str]]:
    """(window id, name) of the maintenance window that made each of these silences."""
    from alertui.maintenance.models import Materialization

    rows = Materialization.objects.filter(silence_id__in=silence_ids).values_list(
        "silence_id", "window_id", "window__name"
    )
    return {sid: (window_id, name) for sid, window_id, name in rows}


def _acknowledgements(silence_ids: set[str]) -> dict[str, tuple[str, datetime]]:
    """Of these silences, those that are acknowledgements still going: (person, when)."""
    from alertui.acks.models import Acknowledgement

    going = Acknowledgement.objects.filter(silence_id__in=silence_ids, ended_at=None)
    return {
        sid: (person, at)
        for sid, person, at in going.values_list("silence_id", "person_name", "created_at")
    }


def row_silences(alert, known: dict[str, SilenceInfo]) -> tuple[SilenceInfo, ...]:
    return tuple(
        known.get(sid) or SilenceInfo(str(sid), "", "", None, found=False)
        for sid in alert.silenced_by[:SHOWN_PER_ROW]
    )


def row_inhibitors(alert, everything: list) -> tuple[Inhibitor, ...]:
    if not alert.inhibited_by:
        return ()
    current = snapshot.by_fingerprint(everything)
    # An alert is inhibited by alerts of its own Alertmanager.
    return tuple(
        Inhibitor(str(fp), current.get((alert.cluster, fp)))
        for fp in alert.inhibited_by[:SHOWN_PER_ROW]
    )


def cache_key(silences: tuple[SilenceInfo, ...], inhibitors: tuple[Inhibitor, ...]) -> int:
    """What of these the row's HTML depends on, as a hash (as AlertView.key): a key holding
    the comments themselves would grow the caches past what they count."""
    return hash(
        (silences, tuple((i.fingerprint, i.alert.key if i.alert else None) for i in inhibitors))
    )
