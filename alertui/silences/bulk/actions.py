"""Bulk expire and bulk extend: one silence after another through silences.services, so each
gets its own audit row, and one failure stops none of the others."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from alertui.alerts import local_changes
from alertui.durations import DurationError, parse_duration
from alertui.silences import services
from alertui.silences.models import Silence
from alertui.silences.recorder import Actor

ACTIONS = ("expire", "extend")
BULK_PRESETS = ("1h", "4h", "1d")
# Most silences one bulk action takes: bounds the work (and the wait) of one request.
MAX_SILENCES = 100


class BulkError(ValueError):
    """The request as a whole cannot be done (nothing was changed); the message says why."""


@dataclass(frozen=True)
class Request:
    action: str
    silence_ids: tuple[str, ...]
    by: str = ""  # extend: the duration added to each silence's end


@dataclass
class Outcome:
    silence_id: str
    matchers_text: str
    ok: bool
    message: str
    new_id: str = ""
    until: str = ""  # extend: the new end (ISO 8601, UTC)

    def as_dict(self) -> dict:
        return asdict(self)


def parse_request(data) -> Request:
    """The action, silences and duration of a bulk form (a QueryDict); BulkError if unusable."""
    action = data.get("action", "")
    if action not in ACTIONS:
        raise BulkError("Choose what to do: expire or extend.")
    ids = []
    for value in data.getlist("silence")[: MAX_SILENCES + 1]:
        value = value.strip()[:64]
        if value and value not in ids:
            ids.append(value)
    if not ids:
        raise BulkError("Select at least one silence.")
    if len(ids) > MAX_SILENCES:
        raise BulkError(f"Select at most {MAX_SILENCES} silences at once.")
    by = ""
    if action == "extend":
        by = data.get("by", "").strip()[:40]
        try:
            duration(by)
        except DurationError as e:
            raise BulkError(f"Extend by how long? {e}") from None
    return Request(action, tuple(ids), by)


def duration(by: str) -> timedelta:
    return parse_duration(by)


def silences_of(request: Request) -> list[Silence]:
    """The silences the request names that alertui knows, in the order they were given."""
    found = {s.id: s for s in Silence.objects.filter(pk__in=request.silence_ids)}
    return [found[i] for i in request.silence_ids if i in found]


def run(actor: Actor, request: Request) -> list[Outcome]:
    """Do the action on each silence in turn; an Outcome per silence named."""
    known = {s.id: s for s in silences_of(request)}
    outcomes = []
    for silence_id in request.silence_ids:
        silence = known.get(silence_id)
        if silence is None:
            outcomes.append(Outcome(silence_id, "", False, "alertui knows no such silence."))
            continue
        outcomes.append(_one(actor, request, silence))
    return outcomes


def _one(actor: Actor, request: Request, silence: Silence) -> Outcome:
    def failed(message: str) -> Outcome:
        return Outcome(silence.id, silence.matchers_text, False, message)

    try:
        if request.action == "expire":
            services.expire_silence(actor, silence.id)
            local_changes.silence_expired(silence.id)
            return Outcome(silence.id, silence.matchers_text, True, "Expired.")
        new_end = max(silence.ends_at, timezone.now()) + duration(request.by)
        changed = services.extend_silence(actor, silence.id, new_end)
        local_changes.silence_extended(silence.id, changed)
    except services.SilenceActionError as e:
        return failed(e.message)
    except ValidationError as e:
        return failed(" ".join(e.messages))
    except PermissionDenied as e:
        return failed(str(e) or "You may not change this silence.")
    except OverflowError:
        return failed("That end would be out of range.")
    return Outcome(
        silence.id,
        silence.matchers_text,
        True,
        "Extended.",
        new_id=changed.id if changed.id != silence.id else "",
        until=changed.ends_at.isoformat(),
    )
