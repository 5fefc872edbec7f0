"""Changes to windows by people (browser and API): each one a WindowChange row, and the
window's silences brought in line at once (the job does the same every minute)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alertui.durations import LONGEST, format_duration
from alertui.locks import LockBusy, serialized
from alertui.maintenance import clusters as cluster_config
from alertui.maintenance.materialize import end_materialization, sync_window
from alertui.maintenance.models import Materialization, Window, WindowChange, WindowException
from alertui.maintenance.schedule import Schedule, occurrences
from alertui.maintenance.validation import validate_window
from alertui.matchers import Matcher
from alertui.scopes.access import refusal_for
from alertui.silences.recorder import Actor
from alertui.silences.services import SilenceActionError

State = Materialization.State
PAUSED = "paused"


class WindowActionError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class WindowFields:
    name: str
    matchers: tuple[Matcher, ...]
    comment: str
    schedule: Schedule
    clusters: tuple[str, ...] = ()


def snapshot(window: Window) -> dict:
    return {
        "name": window.name,
        "matchers": window.matchers_text,
        "comment": window.comment,
        "clusters": window.clusters,
        "start": f"{window.start_date} {window.start_time}",
        "time_zone": window.time_zone,
        "duration": window.duration.total_seconds(),
        "frequency": window.frequency,
        "interval": window.interval,
        "weekdays": window.weekdays,
        "month_day": window.month_day,
        "nth": [window.nth, window.nth_weekday],
        "until": str(window.until or ""),
        "count": window.count,
        "paused": window.paused,
    }


def _record(actor: Actor, window: Window, action: str, before=None, note: str = "") -> None:
    WindowChange.objects.create(
        window=window,
        action=action,
        actor=actor.user,
        actor_name=actor.name,
        source=actor.source,
        before=before,
        after=snapshot(window),
        note=note,
    )


def _take_over(actor: Actor, window: Window) -> str:
    """Whoever last decided what a window silences, or that it silences again, owns it: its
    silences are made and edited in the owner's name, so they must not stay in the name of
    someone who did not choose them. Returns the note for the window's history."""
    if actor.user is None or window.owner_id == actor.user.pk:
        return ""
    previous = window.owner.get_username()
    window.owner = actor.user
    return f"Owner: {previous} \u2192 {actor.user.get_username()} (who changed it owns it now)."


@contextmanager
def _one_at_a_time(window_id: int):
    try:
        with serialized(f"maintenance-window:{window_id}"):
            yield
    except LockBusy:
        raise WindowActionError("This window is being changed right now; try again.") from None


def _check(fields: WindowFields, exclude_id: int | None = None) -> tuple[str, ...]:
    validate_window(fields.name, list(fields.matchers), fields.comment, fields.schedule)
    taken = Window.objects.filter(name=fields.name.strip(), deleted_at=None)
    if taken.exclude(pk=exclude_id).exists():
        raise ValidationError({"name": "Another window has this name."})
    known = cluster_config.configured_names()
    unknown = [c for c in fields.clusters if c not in known]
    if unknown:
        raise ValidationError({"clusters": f"Unknown cluster: {', '.join(unknown)[:200]}"})
    # Each cluster once, in the configured order; none named is every one.
    return tuple(n for n in known if n in fields.clusters) or tuple(known)


def _apply(window: Window, fields: WindowFields, chosen) -> None:
    s = fields.schedule
    window.name = fields.name.strip()
    window.set_matchers(fields.matchers)
    window.comment = fields.comment.strip()
    window.clusters = list(chosen)
    window.start_date, window.start_time = s.start_date, s.start_time
    window.time_zone, window.duration, window.frequency = s.time_zone, s.duration, s.frequency
    window.interval, window.weekdays = s.interval, sorted(set(s.weekdays))
    window.month_day, window.nth, window.nth_weekday = s.month_day, s.nth, s.nth_weekday
    window.until, window.count = s.until, s.count
    window.updated_at = timezone.now()


def _may_act_on(actor: Actor, window: Window) -> None:
    """Acting on a window acts on its silences: a scoped person acts only on windows inside
    their scopes (refused before anything changes, as the silences themselves would be)."""
    chosen = window.clusters or cluster_config.configured_names()
    refusal = refusal_for(actor.user, window.matcher_list, chosen)
    if refusal:
        raise SilenceActionError(refusal, "out_of_scope")


def _within_scopes(actor: Actor, fields: WindowFields, chosen) -> None:
    """A window makes silences in its owner's name: only ones inside their scopes."""
    refusal = refusal_for(actor.user, fields.matchers, chosen)
    if refusal:
        raise ValidationError({"matchers": refusal})


def create_window(actor: Actor, fields: WindowFields) -> Window:
    chosen = _check(fields)
    _within_scopes(actor, fields, chosen)
    window = Window(owner=actor.user)
    _apply(window, fields, chosen)
    with transaction.atomic():
        window.save()
        _record(actor, window, WindowChange.Action.CREATED)
    with _one_at_a_time(window.pk):
        sync_window(window, timezone.now())
    return window


def edit_window(actor: Actor, window: Window, fields: WindowFields) -> Window:
    chosen = _check(fields, exclude_id=window.pk)
    _may_act_on(actor, window)
    _within_scopes(actor, fields, chosen)  # whoever edits a window becomes its owner
    with _one_at_a_time(window.pk):
        window.refresh_from_db()
        before = snapshot(window)
        _apply(window, fields, chosen)
        window.version += 1
        note = _take_over(actor, window)
        with transaction.atomic():
            window.save()
            _record(actor, window, WindowChange.Action.EDITED, before, note=note)
        if window.active:
            sync_window(window, timezone.now())
    return window


def pause_window(actor: Actor, window: Window) -> Window:
    return _stop(actor, window, paused=True)


def delete_window(actor: Actor, window: Window) -> Window:
    return _stop(actor, window, deleted=True)


def _stop(actor: Actor, window: Window, paused=False, deleted=False) -> Window:
    """Pause or delete: every silence not yet ended is expired by the person who asked."""
    with _one_at_a_time(window.pk):
        window.refresh_from_db()
        _may_act_on(actor, window)
        before = snapshot(window)
        now = timezone.now()
        window.paused = window.paused or paused
        window.deleted_at = now if deleted else window.deleted_at
        window.updated_at = now
        action = WindowChange.Action.DELETED if deleted else WindowChange.Action.PAUSED
        with transaction.atomic():
            window.save()
            _record(actor, window, action, before)
        errors = _end_all(actor, window, now, why=PAUSED if paused else "deleted")
    if errors:
        raise WindowActionError(
            "The window is stopped, but some of its silences could not be expired yet: "
            + "; ".join(errors)[:500]
        )
    return window


def _end_all(actor: Actor, window: Window, now: datetime, why: str) -> list[str]:
    errors = []
    live = window.materializations.filter(ends_at__gt=now).exclude(
        state__in=[State.ENDED, State.MISSED]
    )
    for row in live:
        try:
            end_materialization(actor, row, why)
        except SilenceActionError as e:
            errors.append(e.message)
    return errors


def resume_window(actor: Actor, window: Window) -> Window:
    with _one_at_a_time(window.pk):
        window.refresh_from_db()
        _may_act_on(actor, window)
        if window.deleted_at is not None or not window.paused:
            raise WindowActionError("Only a paused window can be resumed.")
        before = snapshot(window)
        window.paused = False
        window.updated_at = timezone.now()
        note = _take_over(actor, window)
        with transaction.atomic():
            window.save()
            _record(actor, window, WindowChange.Action.RESUMED, before, note=note)
            # The occurrences the pause ended are made again (what is left of them).
            window.materializations.filter(state=State.ENDED, error=PAUSED).update(
                state=State.RETRY, attempts=0, silence_id=""
            )
        sync_window(window, timezone.now())
    return window


def end_occurrence_early(actor: Actor, window: Window, occurrence_start: datetime) -> None:
    """End a running (or pending) occurrence now, in every cluster; it is not made again."""
    _may_act_on(actor, window)
    with _one_at_a_time(window.pk):
        rows = window.materializations.filter(occurrence_start=occurrence_start)
        if not rows.exists():
            raise WindowActionError("This occurrence has no silence to end.")
        for row in rows:
            end_materialization(actor, row, "ended early")
        _record(
            actor,
            window,
            WindowChange.Action.ENDED_EARLY,
            note=f"Occurrence {occurrence_start:%Y-%m-%d %H:%M} UTC ended early.",
        )


def skip_occurrence(actor: Actor, window: Window, occurrence_start: datetime) -> None:
    _may_act_on(actor, window)
    with _one_at_a_time(window.pk):
        if not _is_scheduled(window, occurrence_start):
            raise ValidationError({"occurrence": "The schedule has no occurrence at that time."})
        WindowException.objects.update_or_create(
            window=window,
            original_start=occurrence_start,
            defaults={"kind": "skip", "starts_at": None, "ends_at": None},
        )
        for row in window.materializations.filter(occurrence_start=occurrence_start):
            end_materialization(actor, row, "skipped")
        _record(
            actor,
            window,
            WindowChange.Action.SKIPPED,
            note=f"Occurrence {occurrence_start:%Y-%m-%d %H:%M} UTC skipped.",
        )


def move_occurrence(
    actor: Actor, window: Window, occurrence_start: datetime, starts_at: datetime, ends_at: datetime
) -> None:
    """Give one occurrence other times; its silence follows (edited, or made anew)."""
    with _one_at_a_time(window.pk):
        window.refresh_from_db()
        _may_act_on(actor, window)
        if not _is_scheduled(window, occurrence_start):
            raise ValidationError({"occurrence": "The schedule has no occurrence at that time."})
        errors = move_errors(starts_at, ends_at)
        if errors:
            raise ValidationError(errors)
        WindowException.objects.update_or_create(
            window=window,
            original_start=occurrence_start,
            defaults={"kind": "move", "starts_at": starts_at, "ends_at": ends_at},
        )
        window.version += 1
        # Who moves an occurrence decides what the window silences: it is theirs now, so its
        # silences are edited (and judged by the policy) in their name, as after an edit.
        owner = _take_over(actor, window)
        window.save(update_fields=["version", "owner"])
        _record(
            actor,
            window,
            WindowChange.Action.MOVED,
            note=f"Occurrence {occurrence_start:%Y-%m-%d %H:%M} UTC moved to "
            f"{starts_at:%Y-%m-%d %H:%M}-{ends_at:%Y-%m-%d %H:%M} UTC. {owner}".strip(),
        )
        if window.active:
            sync_window(window, timezone.now())


# Times outside these are no occurrence of any window (and near datetime's ends, zone
# arithmetic overflows).
EARLIEST = datetime(1971, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def _is_scheduled(window: Window, key: datetime) -> bool:
    if not EARLIEST < key < timezone.now() + LONGEST:
        return False
    s = Schedule.of(window)
    return any(o.key == key for o in occurrences(s, key, key + timedelta(seconds=1)))


def move_errors(starts_at: datetime, ends_at: datetime) -> dict[str, str]:
    maximum = timedelta(seconds=settings.SILENCE_MAX_DURATION)
    if not (EARLIEST < starts_at < LATEST and EARLIEST < ends_at < LATEST):
        return {"starts_at": "That time is out of range."}
    if ends_at <= starts_at:
        return {"ends_at": "The end must be after the start."}
    if ends_at <= timezone.now():
        return {"ends_at": "The end is in the past."}
    if ends_at - starts_at > maximum:
        return {"ends_at": f"A silence may last at most {format_duration(maximum)}."}
    return {}
