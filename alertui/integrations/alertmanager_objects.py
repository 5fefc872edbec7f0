"""Alertmanager API v2 answers as typed objects (silences, alerts, status) and the silence a
write sends. Parsed at the boundary: nothing past alertui.integrations touches the raw JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from alertui.integrations import values
from alertui.integrations.values import Unreadable, parse_time, text
from alertui.matchers import Matcher


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    updated_at: datetime | None
    state: str  # active | pending | expired, as Alertmanager computed it when asked
    # Alertmanager 0.32+ keeps a silence's annotations (earlier versions drop them): sorted
    # (name, value) pairs, so the silence stays hashable.
    annotations: tuple[tuple[str, str], ...] = ()
    # False: `annotations` is not all Alertmanager holds, as it holds them (more than
    # MAX_ANNOTATIONS, or values alertui cannot keep): an edit sending them back would drop some.
    annotations_whole: bool = field(default=True, compare=False)

    @property
    def annotations_refusal(self) -> str:
        """Why an edit through alertui must not send this silence back ("": it may)."""
        if self.annotations_whole:
            return ""
        return (
            f"This silence carries annotations alertui cannot send back whole (more than "
            f"{MAX_ANNOTATIONS}, or values it cannot keep): an edit here would drop them. "
            "Change it with amtool or Alertmanager's own UI."
        )

    @classmethod
    def from_api(cls, data: Any) -> Silence:
        """The silence, or Unreadable: a silence is kept whole or not at all, since a part of
        its matchers or times would mute something else than Alertmanager does."""
        if not isinstance(data, dict):
            raise Unreadable(f"an item that is not a silence: {values.brief(data)}")
        silence_id = data.get("id")
        if not isinstance(silence_id, str) or not values.ID.fullmatch(silence_id):
            raise Unreadable(f"silence id {values.brief(silence_id)} is not one Alertmanager makes")
        try:
            matchers = data.get("matchers")
            if not isinstance(matchers, list) or not matchers:
                raise ValueError("no matchers")
            status = data.get("status") or {}
            starts_at, ends_at = parse_time(data["startsAt"]), parse_time(data["endsAt"])
            if starts_at is None or ends_at is None:
                raise ValueError("no start or end")
            for m in matchers:
                if not (isinstance(m.get("name"), str) and m["name"]) or not isinstance(
                    m.get("value"), str
                ):
                    raise ValueError(f"matcher {values.brief(m)} lacks a name or a value")
            return cls(
                id=silence_id,
                matchers=tuple(Matcher.from_api(m) for m in matchers),
                starts_at=starts_at,
                ends_at=ends_at,
                created_by=text(data.get("createdBy") or ""),
                comment=text(data.get("comment") or ""),
                updated_at=parse_time(data.get("updatedAt")),
                state=str(status.get("state") or "") if isinstance(status, dict) else "",
                annotations=_annotations(data.get("annotations")),
                annotations_whole=_kept_whole(data.get("annotations")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise Unreadable(f"silence {silence_id} ({type(e).__name__}: {e})"[:300]) from None


MAX_ANNOTATIONS = 50


def _annotations(data: Any) -> tuple[tuple[str, str], ...]:
    """A silence's annotations as sorted pairs; anything that is not a string map is none (they
    only describe the silence: a bad one must not cost the silence itself)."""
    if not isinstance(data, dict):
        return ()
    pairs = [
        (text(k), text(v)) for k, v in data.items() if isinstance(k, str) and isinstance(v, str)
    ]
    return tuple(sorted(pairs)[:MAX_ANNOTATIONS])


def _kept_whole(data: Any) -> bool:
    """Whether _annotations(data) is every annotation, unchanged."""
    if not isinstance(data, dict):
        return not data
    return len(data) <= MAX_ANNOTATIONS and all(
        isinstance(k, str) and isinstance(v, str) and text(k) == k and text(v) == v
        for k, v in data.items()
    )


class SilenceList(list):
    """The silences of one answer that could be read; `unreadable` says what each other item
    was, and `unreadable_ids` holds the ids among them (those silences still exist)."""

    def __init__(self, silences=()):
        super().__init__(silences)
        self.unreadable: list[str] = []
        self.unreadable_ids: set[str] = set()


@dataclass(frozen=True)
class SilenceRequest:
    """What we POST: a new silence (no id) or a change to an existing one."""

    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    id: str | None = None
    # Sent when given: Alertmanager 0.32+ keeps them, 0.25-0.31 accept and drop them.
    annotations: tuple[tuple[str, str], ...] = ()

    def to_api(self) -> dict[str, Any]:
        body = {
            "matchers": [m.to_api() for m in self.matchers],
            "startsAt": format_time(self.starts_at),
            "endsAt": format_time(self.ends_at),
            "createdBy": self.created_by,
            "comment": self.comment,
        }
        if self.id:
            body["id"] = self.id
        if self.annotations:
            body["annotations"] = dict(self.annotations)
        return body


@dataclass(frozen=True)
class Alert:
    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime | None
    ends_at: datetime | None
    updated_at: datetime | None
    generator_url: str
    state: str  # unprocessed | active | suppressed
    silenced_by: tuple[str, ...]
    inhibited_by: tuple[str, ...]
    receivers: tuple[str, ...]
    # What was wrong with the alert as Alertmanager sent it (each value dropped or converted).
    problems: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, data: Any) -> Alert:
        """The alert, keeping every value that can be read. Raises Unreadable when it has no
        usable fingerprint or labels (nothing could identify or show it); any other bad value
        is dropped or converted, and named in `problems`."""
        if not isinstance(data, dict):
            raise Unreadable(f"an item that is not an alert: {values.brief(data)}")
        fingerprint = data.get("fingerprint")
        if fingerprint is None:
            raise Unreadable("an alert without a fingerprint")
        if not isinstance(fingerprint, str) or not values.ID.fullmatch(fingerprint):
            raise Unreadable(
                f"fingerprint {values.brief(fingerprint)} is not one Alertmanager makes"
            )
        if not isinstance(data.get("labels"), dict):
            raise Unreadable(f"the labels of alert {fingerprint} are not an object")
        problems: list[str] = []
        status = values.field(data, "status", dict, {}, problems)
        annotations = values.field(data, "annotations", dict, {}, problems)
        receivers = values.field(data, "receivers", list, [], problems)
        return cls(
            fingerprint=fingerprint,
            labels=values.strings(data["labels"], "label", problems),
            annotations=values.strings(annotations, "annotation", problems),
            starts_at=values.time(data, "startsAt", problems),
            ends_at=values.time(data, "endsAt", problems),
            updated_at=values.time(data, "updatedAt", problems),
            generator_url=values.link(data, "generatorURL", problems),
            state=_state(status.get("state"), problems),
            silenced_by=values.ids(status, "silencedBy", problems),
            inhibited_by=values.ids(status, "inhibitedBy", problems),
            receivers=tuple(text(r.get("name", "")) for r in receivers if isinstance(r, dict)),
            problems=tuple(f"alert {fingerprint}: {p}" for p in problems),
        )


class AlertList(list):
    """The alerts of one answer that could be read; `unreadable` says what each other item
    was, so one bad item costs that item only."""

    def __init__(self, alerts=(), unreadable=()):
        super().__init__(alerts)
        self.unreadable: list[str] = list(unreadable)


ALERT_STATES = ("unprocessed", "active", "suppressed")


def _state(value, problems: list[str]) -> str:
    if value is None or value in ALERT_STATES:
        return value or ""
    problems.append(f"state {values.brief(value)} is not one Alertmanager has")
    return ""


@dataclass(frozen=True)
class Status:
    version: str
    cluster_status: str  # ready | settling | disabled
    cluster_name: str
    peers: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Status:
        cluster = data.get("cluster") or {}
        return cls(
            version=str((data.get("versionInfo") or {}).get("version") or ""),
            cluster_status=str(cluster.get("status") or ""),
            cluster_name=str(cluster.get("name") or ""),
            peers=tuple(str(p.get("address", "")) for p in cluster.get("peers") or ()),
        )
