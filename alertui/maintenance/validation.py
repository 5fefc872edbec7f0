"""The checks a window must pass: the silence rules (matchers, comment, longest silence) and the
schedule's own (a zone that exists, bounded recurrence, a duration shorter than the period)."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from alertui.durations import LONGEST, format_duration
from alertui.maintenance import schedule as sch
from alertui.maintenance.models import NAME_MAX
from alertui.matchers import Matcher, MatcherError, validate_silence_matchers

FIRST_DATE = date(2000, 1, 1)
# Consecutive occurrences compared when checking that one ends before the next starts.
CHECKED_OCCURRENCES = 120


def validate_window(name: str, matchers: list[Matcher], comment: str, s: sch.Schedule) -> None:
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Give the window a name."
    elif len(name) > NAME_MAX:
        errors["name"] = f"At most {NAME_MAX} characters."
    elif any(unicodedata.category(c).startswith("C") for c in name):
        # A name is one line: it heads pages, calendar entries and silence comments.
        errors["name"] = "A name is one line of text, without line breaks or control characters."
    try:
        validate_silence_matchers(matchers)
    except MatcherError as e:
        errors["matchers"] = str(e)
    if not (comment or "").strip():
        errors["comment"] = "Say why: a comment is required."
    errors.update(schedule_errors(s))
    if errors:
        raise ValidationError(errors)


def schedule_errors(s: sch.Schedule) -> dict[str, str]:
    errors: dict[str, str] = {}
    if s.time_zone not in sch.zone_names():
        return {"time_zone": "Unknown time zone: use an IANA name such as Europe/Berlin."}
    if not FIRST_DATE <= s.start_date <= timezone.now().date() + LONGEST:
        # Occurrences are computed by walking from the first date: keep that walk short.
        return {"start_date": "The first date must be after 2000 and within ten years."}
    maximum = timedelta(seconds=settings.SILENCE_MAX_DURATION)
    if s.duration < timedelta(minutes=1):
        errors["duration"] = "A window lasts at least one minute."
    elif s.duration > maximum:
        errors["duration"] = (
            f"A silence may last at most {format_duration(maximum)}; shorten the window or ask "
            "an administrator to raise SILENCE_MAX_DURATION."
        )
    if s.frequency not in ("once", *sch.FREQUENCIES):
        errors["frequency"] = "Choose once, daily, weekly or monthly."
        return errors
    if not s.recurring:
        return errors
    errors.update(_recurrence_errors(s))
    if errors:
        return errors
    first = sch.first_local_start(s)
    if first is None:
        return {"until": "This schedule never occurs before its end date."}
    if "duration" not in errors and _overlaps(s, first):
        errors["duration"] = "The duration must be shorter than the time between two occurrences."
    return errors


def _recurrence_errors(s: sch.Schedule) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not 1 <= s.interval <= sch.MAX_INTERVAL:
        errors["interval"] = f"Repeat every 1 to {sch.MAX_INTERVAL} periods."
    if any(d not in range(7) for d in s.weekdays):
        errors["weekdays"] = "Weekdays are 0 (Monday) to 6 (Sunday)."
    if s.month_day is not None and s.month_day not in (*range(1, 32), -1):
        errors["month_day"] = "A day of the month is 1 to 31, or -1 for the last day."
    if (s.nth is None) != (s.nth_weekday is None):
        errors["nth"] = "Give both which weekday of the month and which one (first ... last)."
    elif s.nth is not None and (s.nth not in sch.NTH or s.nth_weekday not in range(7)):
        errors["nth"] = "Choose the first, second, third, fourth or last weekday."
    if s.until is not None and s.count is not None:
        errors["count"] = "Give an end date or a number of times, not both."
    if s.count is not None and not 1 <= s.count <= sch.MAX_COUNT:
        errors["count"] = f"From 1 to {sch.MAX_COUNT} times."
    if s.until is not None and s.until < s.start_date:
        errors["until"] = "The end date is before the first date."
    return errors


def _overlaps(s: sch.Schedule, first) -> bool:
    r = sch.rule(s)
    previous_end = None
    for n, local in enumerate(r):
        if n >= CHECKED_OCCURRENCES:
            break
        start = sch.to_utc(local, s.zone)
        if previous_end is not None and start < previous_end:
            return True
        previous_end = start + s.duration
    return False
