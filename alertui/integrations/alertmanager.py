"""Typed client for the Alertmanager API v2, with failover across the peers of one HA cluster.

Responses become dataclasses here; nothing past this module touches Alertmanager's raw JSON.
Writes go to one healthy peer and are read back from the same peer (a fresh silence id can
404 on another peer until gossip arrives). Reads and expiries (idempotent) move to the next
peer when a peer cannot be reached or answers 5xx. A create or an edit goes to one peer only:
once that peer received it, no answer in time or a 5xx leaves its outcome unknown, and it is
not sent again elsewhere, so a write never creates two silences.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from alertui.integrations import values
from alertui.integrations.connection import Connection
from alertui.integrations.http import (
    DEFAULT_MAX_RESPONSE_BYTES,
    Answer,
    Transport,
    TransportError,
)
from alertui.integrations.values import Unreadable, parse_time, text
from alertui.matchers import Matcher


class AlertmanagerError(Exception):
    """Alertmanager refused a request or could not be reached; `message` is its own words."""

    def __init__(self, message: str, status: int | None = None, peer: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.peer = peer


class AlertmanagerUnavailable(AlertmanagerError):
    """No peer could be reached (connection refused, timeout, or 5xx from every peer)."""


class AlertmanagerOutcomeUnknown(AlertmanagerError):
    """A write reached a peer but its answer leaves open whether it was applied: none came in
    time, or a 5xx (a proxy's 502/504 may hide a peer that applied it)."""


class SilenceNotFound(AlertmanagerError):
    pass


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
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise Unreadable(f"silence {silence_id} ({type(e).__name__}: {e})"[:300]) from None


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


def _error_message(answer: Answer) -> str:
    text = answer.text.strip()
    if not text:
        return f"{answer.status} {answer.reason}".strip()
    try:
        body = json.loads(text)
    except ValueError:
        return text[:1000]
    if isinstance(body, str):
        return body
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return text[:1000]


class AlertmanagerClient:
    """The peers of one Alertmanager cluster. Each peer is a Connection (or a plain URL, for
    one without credentials); every call to a peer ends within `timeout` seconds and reads at
    most `max_response_bytes`."""

    def __init__(
        self,
        peers: Sequence[Connection | str],
        timeout: float = 10.0,
        connect_timeout: float = 3.0,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ):
        if not peers:
            raise ValueError("at least one Alertmanager URL is needed")
        connections = [p if isinstance(p, Connection) else Connection.from_url(p) for p in peers]
        self.urls = [c.url for c in connections]
        self.timeout = timeout
        self._transports = {
            c.url: Transport(
                c,
                deadline=timeout,
                connect_timeout=connect_timeout,
                max_bytes=max_response_bytes,
            )
            for c in connections
        }
        # The peer that answered last: reads after a write go there first.
        self.preferred = self.urls[0]
        self._answered = False

    # -- transport -----------------------------------------------------------------------

    def _peers_in_order(self) -> list[str]:
        return [self.preferred] + [u for u in self.urls if u != self.preferred]

    def _request(self, method: str, path: str, *, may_repeat: bool = True, **kwargs):
        """Send to the preferred peer, then the others on connection failure or 5xx.

        may_repeat=False marks a request that must reach one peer only (creating or replacing
        a silence): once a peer received it, whatever comes back ends the attempt, and an
        answer that leaves open whether it was applied (none in time, or a 5xx, which from a
        proxy may hide a peer that applied it) is AlertmanagerOutcomeUnknown. Such a request
        goes to a peer that has just answered: if none has yet, one is found first.
        """
        if not may_repeat and not self._answered:
            self._request("GET", "/status")
        failures = []
        for peer in self._peers_in_order():
            try:
                answer = self._transports[peer].call(method, f"/api/v2{path}", **kwargs)
            except TransportError as e:
                if e.sent and not may_repeat:
                    raise _outcome_unknown(peer, e.reason) from None
                failures.append(f"{peer}: {e.reason}")
                continue
            if answer.status >= 500 and not _is_not_found(answer):
                if not may_repeat:
                    reason = f"answered {answer.status}: {_error_message(answer)}"
                    raise _outcome_unknown(peer, reason, answer.status)
                failures.append(f"{peer}: {_error_message(answer)}")
                continue
            self.preferred = peer
            self._answered = True
            return peer, answer
        raise AlertmanagerUnavailable("Alertmanager is unreachable: " + "; ".join(failures))

    def _json(self, method: str, path: str, *, about_silence: bool = False, **kwargs):
        peer, answer = self._request(method, path, **kwargs)
        if answer.access_refused:
            raise AlertmanagerError(f"{peer}: {answer.access_refused}", answer.status, peer)
        if about_silence and (answer.status == 404 or _is_not_found(answer)):
            raise SilenceNotFound(_error_message(answer), answer.status, peer)
        if answer.status >= 400:
            raise AlertmanagerError(_error_message(answer), answer.status, peer)
        if not answer.body:
            return None
        try:
            return json.loads(answer.body)
        except ValueError:
            raise AlertmanagerError(
                f"{peer} answered with something that is not JSON", answer.status, peer
            ) from None

    # -- API -------------------------------------------------------------------------------

    def status(self) -> Status:
        return _parse(Status.from_api, self._json("GET", "/status"))

    def list_silences(self) -> SilenceList:
        silences = SilenceList()
        for item in _list(self._json("GET", "/silences")):
            try:
                silences.append(Silence.from_api(item))
            except Unreadable as e:
                silences.unreadable.append(str(e))
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    silences.unreadable_ids.add(item["id"][:64])
        return silences

    def get_silence(self, silence_id: str) -> Silence:
        body = self._json("GET", f"/silence/{silence_id}", about_silence=True)
        return _parse(Silence.from_api, body)

    def post_silence(self, silence: SilenceRequest) -> str:
        """Create (no id) or change a silence; returns the id Alertmanager gives back.

        A change may come back under a new id (Alertmanager expired the old silence and made a
        new one), so callers must use the returned id.
        """
        # One peer only, whatever it answers: a create sent again elsewhere is duplicated, and
        # a replacing edit applied twice (the second peer not yet told of the first change by
        # gossip) leaves two active silences.
        body = self._json(
            "POST",
            "/silences",
            json=silence.to_api(),
            may_repeat=False,
            about_silence=bool(silence.id),
        )
        if not isinstance(body, dict) or not body.get("silenceID"):
            raise AlertmanagerError("Alertmanager accepted the silence but returned no id")
        return str(body["silenceID"])

    def expire_silence(self, silence_id: str) -> None:
        # Idempotent (expiring an expired silence answers 200), so it may go to the next peer.
        self._json("DELETE", f"/silence/{silence_id}", about_silence=True)

    def list_alerts(
        self,
        *,
        active: bool = True,
        silenced: bool = True,
        inhibited: bool = True,
        filters: list[str] | None = None,
    ) -> AlertList:
        params = {
            "active": _bool(active),
            "silenced": _bool(silenced),
            "inhibited": _bool(inhibited),
            "filter": filters or [],
        }
        alerts = AlertList()
        for item in _list(self._json("GET", "/alerts", params=params)):
            try:
                alerts.append(Alert.from_api(item))
            except Unreadable as e:
                alerts.unreadable.append(str(e))
            except (KeyError, TypeError, ValueError, AttributeError) as e:
                alerts.unreadable.append(f"an alert alertui cannot read ({type(e).__name__}: {e})")
        return alerts

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """Push alerts (used by the demo and tests to feed a real Alertmanager)."""
        self._json("POST", "/alerts", json=alerts)


def _parse(from_api, data):
    """Typed object from a response item; a malformed one is an AlertmanagerError, not a crash."""
    try:
        return from_api(data)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise AlertmanagerError(
            f"unexpected response from Alertmanager ({type(e).__name__}: {e})"
        ) from None


def _list(body) -> list:
    if body is None:
        return []
    if not isinstance(body, list):
        raise AlertmanagerError("unexpected response from Alertmanager: expected a list")
    return body


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _is_not_found(answer: Answer) -> bool:
    # 0.25 answers DELETE of an unknown silence with 500 "silence not found"; 0.26+ with 404.
    return answer.status == 500 and "silence not found" in answer.text


def _outcome_unknown(peer: str, reason: str, status: int | None = None):
    return AlertmanagerOutcomeUnknown(
        f"{peer}: {reason}; the change may or may not have been applied", status, peer
    )
