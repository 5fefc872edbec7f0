"""What became of interrupted changes: each leftover intent matched against what Alertmanager holds.

A request writes its intent (exactly what it sends) before calling Alertmanager. If it died
before recording the outcome, the sync decides here. An intent is credited with a change only
when what Alertmanager holds agrees with it: the same matchers, creator and comment, the end it
sent, a start and an update time within the request's bounds. Anything else is recorded as
observed, under the name Alertmanager gives, and the intent is closed as failed (nothing like it
happened) or unknown (the silence changed again, or several silences could be its result).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q

from alertui import clients
from alertui.audit.models import AuditEvent, PendingChange
from alertui.integrations.alertmanager import Silence as AmSilence
from alertui.matchers import format_matchers

Action = AuditEvent.Action
Outcome = AuditEvent.Outcome


def grace() -> timedelta:
    """An intent younger than this may still be finishing in a web process; the sync leaves the
    silences it could explain alone until then: longer than all of a change's calls can take."""
    return timedelta(seconds=max(90.0, clients.change_bound() + 30))


# How far Alertmanager's clock may be from ours when its times are compared with an intent's.
CLOCK_SKEW = timedelta(seconds=30)
# Alertmanager answers with millisecond times; we send microseconds.
SAME_TIME = timedelta(milliseconds=1)

NEW_SILENCE_ACTIONS = (Action.CREATED, Action.RECREATED)
CHANGE_ACTIONS = (Action.EDITED, Action.EXTENDED)

INTERRUPTED = "Recorded by the sync job: the request that made this change was interrupted."


@dataclass(frozen=True)
class Credit:
    """An intent whose change Alertmanager shows: `silence` is the result."""

    intent: PendingChange
    silence: AmSilence
    action: str
    previous_id: str = ""
    replaced: AmSilence | None = None  # a replacing edit: the old silence, now expired


@dataclass(frozen=True)
class Closure:
    """An intent whose change Alertmanager does not show as it was sent."""

    intent: PendingChange
    outcome: str
    error: str


@dataclass
class Plan:
    credits: dict[str, Credit] = field(default_factory=dict)  # by the resulting silence's id
    explained: set[str] = field(default_factory=set)  # ids whose changes the credits cover
    deferred: set[str] = field(default_factory=set)  # ids a request may still be changing
    closures: list[Closure] = field(default_factory=list)


def plan(
    intents: list[PendingChange],
    silences: list[AmSilence],
    mirrored: set[str],
    now: datetime,
    recorded: dict[str, datetime] | None = None,
) -> Plan:
    """Decide, for every leftover intent, what it did; oldest intents first.

    `recorded` maps a silence id to the time of the latest change to it the audit already
    holds (see `recorded_changes`): the mirror of new silences, and this, say what someone has
    already been credited with."""
    result = Plan()
    by_id = {s.id: s for s in silences}
    new = [s for s in silences if s.id not in mirrored]
    recorded = recorded or {}
    contested: set[str] = set()  # silences two intents could each be credited with
    for intent in sorted(intents, key=lambda i: i.created_at):
        if now - intent.created_at < grace():
            result.deferred |= _maybe_touched(intent, new)
            continue
        taken = result.credits.keys() | contested
        decision = _decide(intent, by_id, [s for s in new if s.id not in taken])
        if isinstance(decision, Credit) and _recorded_since(intent, recorded):
            decision = Closure(intent, Outcome.UNKNOWN, RECORDED_SINCE)
        elif isinstance(decision, Credit) and decision.silence.id in taken:
            # Two interrupted requests that both sent this: which of them made it is unknown.
            contested.add(decision.silence.id)
            earlier = result.credits.pop(decision.silence.id, None)
            if earlier is not None:
                result.closures.append(Closure(earlier.intent, Outcome.UNKNOWN, SHARED))
            decision = Closure(intent, Outcome.UNKNOWN, SHARED)
        if isinstance(decision, Credit):
            result.credits[decision.silence.id] = decision
        else:
            result.closures.append(decision)
    for credit in result.credits.values():
        result.explained.add(credit.silence.id)
        if credit.replaced is not None:
            result.explained.add(credit.replaced.id)
    return result


RECORDED_SINCE = (
    "Interrupted; a change to this silence was recorded after this request began, so whether "
    "this one was applied is unknown (Alertmanager holds what that change made)."
)
SHARED = (
    "Interrupted; another interrupted request sent the same change, so which of them made it "
    "is unknown. What Alertmanager shows is recorded as observed."
)


def recorded_changes(intents: list[PendingChange]) -> dict[str, datetime]:
    """For each silence an intent changes, the time of the latest change the audit holds for it
    (as the silence, or as the one a replacement came from) since the oldest intent began."""
    ids = {i.silence_id for i in intents if i.silence_id}
    if not ids:
        return {}
    since = min(i.created_at for i in intents)
    latest: dict[str, datetime] = {}
    events = AuditEvent.objects.filter(
        Q(silence_id__in=ids) | Q(previous_silence_id__in=ids),
        outcome=Outcome.SUCCEEDED,
        at__gte=since,
    ).values_list("silence_id", "previous_silence_id", "at")
    for silence_id, previous_id, at in events:
        for key in {silence_id, previous_id} & ids:
            latest[key] = max(at, latest.get(key, at))
    return latest


def _recorded_since(intent: PendingChange, recorded: dict[str, datetime]) -> bool:
    """Someone has been credited with a change to the intent's silence since it was written:
    what Alertmanager holds is theirs, whether or not it agrees with this intent too."""
    at = recorded.get(intent.silence_id) if intent.silence_id else None
    return at is not None and at >= intent.created_at


def _maybe_touched(intent: PendingChange, new: list[AmSilence]) -> set[str]:
    ids = {s.id for s in new if _same_content(intent, s)}
    if intent.silence_id:
        ids.add(intent.silence_id)
    return ids


def _decide(intent: PendingChange, by_id: dict, new: list[AmSilence]) -> Credit | Closure:
    if intent.action in NEW_SILENCE_ACTIONS:
        return _new_silence(intent, new, action=intent.action)
    target = by_id.get(intent.silence_id)
    if intent.action == Action.EXPIRED:
        return _expiry(intent, target)
    if target is not None and _agrees(intent, target) and _updated_in_window(intent, target):
        return Credit(intent, target, intent.action)
    if target is not None and target.state == "expired" and _ended_in_window(intent, target):
        replacing = _new_silence(intent, new, action=Action.REPLACED)
        if isinstance(replacing, Credit):
            return Credit(
                intent, replacing.silence, Action.REPLACED, intent.silence_id, replaced=target
            )
    if target is not None and target.updated_at and target.updated_at >= _opened(intent):
        return Closure(
            intent,
            Outcome.UNKNOWN,
            "Interrupted; Alertmanager shows another change to this silence since, so whether "
            "this one was applied is unknown. What Alertmanager shows is recorded as observed.",
        )
    return _not_found(intent)


def _new_silence(intent: PendingChange, new: list[AmSilence], *, action: str) -> Credit | Closure:
    agreeing = [s for s in new if _agrees(intent, s) and _started_in_window(intent, s)]
    if len(agreeing) == 1:
        return Credit(intent, agreeing[0], action)
    similar = [s for s in new if _same_content(intent, s)]
    if agreeing or similar:
        ids = ", ".join(s.id for s in (agreeing or similar)[:5])
        return Closure(
            intent,
            Outcome.UNKNOWN,
            "Interrupted; Alertmanager holds silence(s) that could be its result but do not "
            f"agree with it exactly, or more than one does ({ids}); they are recorded as "
            "observed, under the creator Alertmanager names.",
        )
    return _not_found(intent)


def _expiry(intent: PendingChange, target: AmSilence | None) -> Credit | Closure:
    if target is None:
        return _not_found(intent)
    if target.state == "expired" and _ended_in_window(intent, target):
        return Credit(intent, target, Action.EXPIRED)
    if target.state == "expired" and target.ends_at < _opened(intent):
        return Closure(intent, Outcome.FAILED, "The silence had already ended before this request.")
    return _not_found(intent)


def _not_found(intent: PendingChange) -> Closure:
    return Closure(
        intent,
        Outcome.FAILED,
        "Interrupted before completion; no matching change was found in Alertmanager.",
    )


# -- agreement -------------------------------------------------------------------------------


def _same_content(intent: PendingChange, silence: AmSilence) -> bool:
    return (
        format_matchers(silence.matchers) == intent.matchers_text
        and silence.created_by == intent.created_by
        and silence.comment == intent.comment
    )


def _agrees(intent: PendingChange, silence: AmSilence) -> bool:
    """Alertmanager holds what the intent sent: content, end, and start (the server's own when
    the intent asked for none in the future)."""
    if not _same_content(intent, silence) or silence.state == "expired":
        return False
    if abs(silence.ends_at - intent.ends_at) > SAME_TIME:
        return False
    if intent.starts_at > intent.created_at:  # a start in the future is kept as sent
        return abs(silence.starts_at - intent.starts_at) <= SAME_TIME
    return True


def _opened(intent: PendingChange) -> datetime:
    return intent.created_at - CLOCK_SKEW


def _closed(intent: PendingChange) -> datetime:
    return intent.created_at + grace() + CLOCK_SKEW


def _started_in_window(intent: PendingChange, silence: AmSilence) -> bool:
    """A new silence asked to start now gets the server's time of arrival as its start."""
    if intent.starts_at > intent.created_at:
        return True  # checked exactly by _agrees
    return _opened(intent) <= silence.starts_at <= _closed(intent)


def _updated_in_window(intent: PendingChange, silence: AmSilence) -> bool:
    return silence.updated_at is not None and _opened(intent) <= silence.updated_at <= _closed(
        intent
    )


def _ended_in_window(intent: PendingChange, silence: AmSilence) -> bool:
    return _opened(intent) <= silence.ends_at <= _closed(intent)
