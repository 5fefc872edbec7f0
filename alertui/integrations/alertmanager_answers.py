"""Alertmanager's list answers, read only as far as a sync needs them.

A sync that finds nothing changed must cost little more than the fetch itself. So an answer
comes with digests of what Alertmanager sent: the sync compares those with what it stored last
time and reads (parses into alertmanager_objects) only the alerts that changed. (A silences
answer is told by the digest of its whole body: alertmanager.SilencesAnswer.)
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from alertui.integrations import values
from alertui.integrations.alertmanager_objects import Alert
from alertui.integrations.values import Unreadable


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def read_alert(data: Any) -> Alert:
    """The alert, or Unreadable saying why not (never another exception)."""
    try:
        return Alert.from_api(data)
    except Unreadable:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise Unreadable(f"an alert alertui cannot read ({type(e).__name__}: {e})") from None


class AlertItem:
    """One alert of an answer, identified but not read: its fingerprint, a digest of what a
    page shows of it, and the silences muting it (which the sync needs for every alert)."""

    __slots__ = ("fingerprint", "digest", "silenced_by", "_data")

    def __init__(self, data: Any):
        fingerprint = data.get("fingerprint") if isinstance(data, dict) else None
        if not (
            isinstance(fingerprint, str)
            and values.ID.fullmatch(fingerprint)
            and isinstance(data.get("labels"), dict)
        ):
            read_alert(data)  # raises Unreadable, naming what is wrong
            raise Unreadable("an alert alertui cannot identify")
        status = data.get("status")
        self.fingerprint = fingerprint
        self._data = data
        # updatedAt and endsAt are left out: they move each time Prometheus re-sends a firing
        # alert, while nothing a page shows changes; only whether they can be read is kept
        # (the page's note names a time that cannot). The values as sent: two answers alike
        # in what they say (JSON keys in the same order, as Alertmanager writes them) alike here.
        shown = (
            data["labels"],
            data.get("annotations"),
            status,
            data.get("receivers"),
            data.get("generatorURL"),
            data.get("startsAt"),
            _readable_time(data.get("updatedAt")),
            _readable_time(data.get("endsAt")),
        )
        self.digest = digest(_serialized(shown))
        status = status if isinstance(status, dict) else {}
        # Most alerts are not silenced: no list to check.
        self.silenced_by = values.ids(status, "silencedBy", []) if status.get("silencedBy") else ()

    def read(self) -> Alert:
        return read_alert(self._data)


def _readable_time(value) -> bool:
    """Whether values.time reads it without a problem."""
    try:
        values.parse_time(value)
    except (TypeError, ValueError, OverflowError):
        return False
    return True


def _serialized(value) -> bytes:
    """The value as bytes to digest: orjson's JSON, else (what only the standard library
    reads, see values.loads: lone surrogates; NaN and infinities, which orjson writes as null
    like a real null) its repr."""
    try:
        found = orjson.dumps(value)
    except orjson.JSONEncodeError:
        found = b"null"
    if _has_null(found):
        return repr(value).encode("utf-8", "backslashreplace")
    return found


def _has_null(found: bytes) -> bool:
    """Whether orjson's compact JSON holds a null (a string ending in "[null", ",null" or
    ":null" is taken for one: it only costs a repr)."""
    at = found.find(b"null")
    while at != -1:
        if found[at - 1 : at] in (b"[", b",", b":"):
            return True
        at = found.find(b"null", at + 4)
    return False


class AlertItems(list):
    """The identified alerts of one answer; `unreadable` says what each other item was."""

    def __init__(self, items=()):
        super().__init__(items)
        self.unreadable: list[str] = []


def alert_items(body: Any) -> AlertItems:
    items = AlertItems()
    with values.collector_paused():
        for data in body:
            try:
                items.append(AlertItem(data))
            except Unreadable as e:
                items.unreadable.append(str(e))
    return items
