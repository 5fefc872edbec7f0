"""Values read from Alertmanager's JSON, as alertui keeps them.

Anything in an answer may be wrong (another implementation of the API, a proxy, a bug): the
readers here keep what can be read and name what could not in a `problems` list, so one bad
value costs that value only, never its alert, nor its alert's siblings.
"""

from __future__ import annotations

import gc
import json
import re
from contextlib import contextmanager
from datetime import UTC, datetime
from urllib.parse import urlsplit

import orjson

_SURROGATE = re.compile("[\ud800-\udfff]")
# What Alertmanager makes as ids (16 hex digits for a fingerprint, a UUID for a silence), with
# room for other implementations of its API: never anything that cannot be one URL path
# segment (alertui links to both) or longer than the database keeps.
ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,63}")
_KINDS = {dict: "an object", list: "a list", str: "a string"}


class Unreadable(ValueError):
    """An item of a list that alertui cannot use at all; its siblings still can be."""


def loads(body: bytes):
    """JSON, read fast: by orjson, else (lone surrogates, NaN: what orjson refuses and the
    standard library takes) by json. Raises ValueError for what is no JSON. Unlike json,
    orjson reads an integer past 64 bits as a float: Alertmanager and Prometheus send none
    where alertui reads a number, and a label value it sends as a number (never a string) is
    read as such anyway, and named as a problem (strings())."""
    with collector_paused():
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            return json.loads(body)


@contextmanager
def collector_paused():
    """No cyclic garbage collection meanwhile. Reading an answer of 10,000 alerts makes some
    300,000 objects, none of them in a cycle; each collection they would set off walks every
    object of the process (Django's too), and took more time than reading the answer."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def text(value) -> str:
    """Alertmanager's strings as we keep them: NUL, which it accepts and databases refuse, and
    lone surrogates (JSON escapes no UTF-8 encoder takes), become U+FFFD."""
    return _SURROGATE.sub("\ufffd", str(value).replace("\x00", "\ufffd"))


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:  # Alertmanager reads zone-less times as UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def http_url(value, max_length: int | None = 2048) -> str:
    """The value if it is an http(s) URL, else "": a `javascript:` or `data:` link must never
    be rendered. Longer than `max_length`, it is no real runbook or graph link either."""
    found = str(value or "").strip()
    if (max_length and len(found) > max_length) or any(c in found for c in "\r\n"):
        return ""
    try:
        parts = urlsplit(found)
    except ValueError:
        return ""
    return found if parts.scheme in ("http", "https") and parts.netloc else ""


def brief(value) -> str:
    """A value as a problem names it: short, whatever it is."""
    return repr(value)[:60]


def field(data: dict, key: str, kind: type, default, problems: list[str]):
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, kind):
        problems.append(f"{key} is not {_KINDS[kind]}")
        return default
    return value


def strings(mapping: dict, what: str, problems: list[str]) -> dict[str, str]:
    """Label or annotation values as text; a value that is not a string is kept as its JSON."""
    result = {}
    for key, value in mapping.items():
        if not isinstance(value, str):
            problems.append(f"{what} {brief(key)} is not a string")
            value = json.dumps(value, ensure_ascii=False)
        result[text(key)] = text(value)
    return result


def time(data: dict, key: str, problems: list[str]) -> datetime | None:
    value = data.get(key)
    try:
        return parse_time(value)
    except (TypeError, ValueError, OverflowError):
        problems.append(f"{key} {brief(value)} is not a time")
        return None


def link(data: dict, key: str, problems: list[str]) -> str:
    """An http(s) URL, or "": a page may link to it."""
    value = text(field(data, key, str, "", problems))
    if value and not http_url(value, max_length=None):
        problems.append(f"{key} {brief(value)} is not an http(s) URL")
        return ""
    return value


def ids(data: dict, key: str, problems: list[str]) -> tuple[str, ...]:
    """Silence ids or fingerprints; one that could not be an id (empty, with a slash) is
    dropped: alertui links to each."""
    values = field(data, key, list, [], problems)
    kept = tuple(v for v in values if isinstance(v, str) and ID.fullmatch(v))
    if len(kept) != len(values):
        dropped = [v for v in values if v not in kept]
        problems.append(f"{key} names {brief(dropped[0])}, which is not an id")
    return kept
