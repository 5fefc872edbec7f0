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


def silences_for(alerts) -> dict[str, SilenceInfo]:
    """The mirrored silences muting these alerts, by id."""
    from alertui.silences.models import Silence

    wanted = {sid for a in alerts for sid in a.silenced_by[:SHOWN_PER_ROW] if isinstance(sid, str)}
    if not wanted:
        return {}
    rows = Silence.objects.filter(id__in=wanted).values_list(
        "id", "created_by", "comment", "ends_at"
    )
    acks = _acknowledgements(wanted)
    return {
        sid: SilenceInfo(sid, who or "", why or "", end, True, *acks.get(sid, ("", None)))
        for sid, who, why, end in rows
    }


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
