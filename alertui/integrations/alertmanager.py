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
from typing import Any

from alertui.integrations import values
from alertui.integrations.alertmanager_answers import AlertItems, alert_items, digest
from alertui.integrations.alertmanager_objects import (  # noqa: F401 - imported from here too
    Alert,
    AlertList,
    Silence,
    SilenceList,
    SilenceRequest,
    Status,
    format_time,
)
from alertui.integrations.connection import Connection
from alertui.integrations.http import (
    DEFAULT_MAX_RESPONSE_BYTES,
    Answer,
    Transport,
    TransportError,
)
from alertui.integrations.values import Unreadable


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
    time, or a 5xx (a proxy's 502/504 may hide a peer that applied it). For an expiry, which
    goes on to the next peer, only when no peer answered clearly."""


class SilenceNotFound(AlertmanagerError):
    pass


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

    def _request(
        self, method: str, path: str, *, may_repeat: bool = True, only: str = "", **kwargs
    ):
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
        # A write (an expiry, which may be repeated on the next peer) that some peer received
        # but did not answer clearly: unless another peer then answers, it may have been applied.
        maybe_applied = False
        for peer in [only] if only else self._peers_in_order():
            try:
                answer = self._transports[peer].call(method, f"/api/v2{path}", **kwargs)
            except TransportError as e:
                if e.sent and not may_repeat:
                    raise _outcome_unknown(peer, e.reason) from None
                maybe_applied |= e.sent and method != "GET"
                failures.append(f"{peer}: {e.reason}")
                continue
            if answer.status >= 500 and not _is_not_found(answer):
                if not may_repeat:
                    reason = f"answered {answer.status}: {_error_message(answer)}"
                    raise _outcome_unknown(peer, reason, answer.status)
                maybe_applied |= method != "GET"
                failures.append(f"{peer}: {_error_message(answer)}")
                continue
            self.preferred = peer
            self._answered = True
            return peer, answer
        if maybe_applied:
            raise AlertmanagerOutcomeUnknown(
                "; ".join(failures) + "; the change may or may not have been applied"
            )
        raise AlertmanagerUnavailable("Alertmanager is unreachable: " + "; ".join(failures))

    def _body(self, method: str, path: str, *, about_silence: bool = False, **kwargs):
        """The peer that answered and its answer's body; `only=url` asks that peer only."""
        peer, answer = self._request(method, path, **kwargs)
        if answer.access_refused:
            raise AlertmanagerError(f"{peer}: {answer.access_refused}", answer.status, peer)
        if about_silence and (answer.status == 404 or _is_not_found(answer)):
            raise SilenceNotFound(_error_message(answer), answer.status, peer)
        if answer.status >= 400:
            raise AlertmanagerError(_error_message(answer), answer.status, peer)
        return peer, answer.body

    def _json(self, method: str, path: str, **kwargs):
        """The answer's JSON (None for an empty body)."""
        return _loads(*self._body(method, path, **kwargs))

    # -- API -------------------------------------------------------------------------------

    def status(self) -> Status:
        return _parse(Status.from_api, self._json("GET", "/status"))

    def list_silences(self, *, peer: str = "") -> SilenceList:
        """The silences, from the first peer that answers, or from `peer` only."""
        return self.silences_answer(peer=peer).read()

    def silences_answer(self, *, peer: str = "") -> SilencesAnswer:
        """The answer to GET /silences, read on demand (its digest tells an answer that is the
        same as an earlier one), from the first peer that answers or from `peer` only."""
        return SilencesAnswer(*self._body("GET", "/silences", only=peer))

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
        items = self.list_alert_items(
            active=active, silenced=silenced, inhibited=inhibited, filters=filters
        )
        alerts = AlertList(unreadable=items.unreadable)
        for item in items:
            try:
                alerts.append(item.read())
            except Unreadable as e:
                alerts.unreadable.append(str(e))
        return alerts

    def list_alert_items(
        self,
        *,
        active: bool = True,
        silenced: bool = True,
        inhibited: bool = True,
        filters: list[str] | None = None,
    ) -> AlertItems:
        """The alerts, identified and digested but not read (alertmanager_answers)."""
        params = {
            "active": _bool(active),
            "silenced": _bool(silenced),
            "inhibited": _bool(inhibited),
            "filter": filters or [],
        }
        return alert_items(_list(self._json("GET", "/alerts", params=params)))

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """Push alerts (used by the demo and tests to feed a real Alertmanager)."""
        self._json("POST", "/alerts", json=alerts)


class SilencesAnswer:
    """One peer's answer to GET /silences: its digest, and its silences read on demand."""

    def __init__(self, peer: str, body: bytes):
        self.peer = peer
        self._items = _list(_loads(peer, body))
        # Of each item as sent, in an order of their own: Alertmanager lists its silences in
        # an order that changes from one answer to the next.
        said = sorted(map(repr, self._items))
        self.digest = digest("\n".join(said).encode("utf-8", "backslashreplace"))

    def ids(self) -> set[str]:
        """The ids of the silences listed, readable or not."""
        return {
            i["id"] for i in self._items if isinstance(i, dict) and isinstance(i.get("id"), str)
        }

    def read(self) -> SilenceList:
        silences = SilenceList()
        for item in self._items:
            try:
                silences.append(Silence.from_api(item))
            except Unreadable as e:
                silences.unreadable.append(str(e))
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    silences.unreadable_ids.add(item["id"][:64])
        return silences


def _loads(peer: str, body: bytes):
    if not body:
        return None
    try:
        return values.loads(body)
    except ValueError:
        raise AlertmanagerError(
            f"{peer} answered with something that is not JSON", peer=peer
        ) from None


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
