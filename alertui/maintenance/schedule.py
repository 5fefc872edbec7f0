"""A window's schedule: its occurrences in UTC, in words, checked, and as an RFC 5545 RRULE.

Recurrence runs in the window's local time (dateutil's rrule over naive local times), so
"every Sunday 02:00 Europe/Berlin" stays 02:00 across DST; each local start becomes UTC with
zoneinfo. A local start that does not exist (the spring gap) takes the offset before the gap
and an ambiguous one (the autumn repeat) its first meaning, as RFC 5545 says. The duration is
elapsed time, as iCalendar's DURATION is, so the feed and alertui agree on every end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from dateutil import rrule as rr

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
NTH = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
FREQUENCIES = {"daily": rr.DAILY, "weekly": rr.WEEKLY, "monthly": rr.MONTHLY}
MAX_INTERVAL = 52
MAX_COUNT = 1000
# Occurrences one call may list: bounds the work of any range a caller asks about.
MAX_LISTED = 500
# rrule walks from the first start to the range asked about: ranges further on than this from
# the first start have no occurrences, which bounds that walk (a daily rule: ~11,000 steps).
MAX_SPAN = timedelta(days=30 * 366)


@dataclass(frozen=True)
class Schedule:
    start_date: date
    start_time: time
    time_zone: str
    duration: timedelta
    frequency: str = "once"
    interval: int = 1
    weekdays: tuple[int, ...] = ()
    month_day: int | None = None
    nth: int | None = None
    nth_weekday: int | None = None
    until: date | None = None
    count: int | None = None

    @classmethod
    def of(cls, window) -> Schedule:
        return cls(
            window.start_date,
            window.start_time,
            window.time_zone,
            window.duration,
            window.frequency,
            window.interval or 1,
            tuple(window.weekdays or ()),
            window.month_day,
            window.nth,
            window.nth_weekday,
            window.until,
            window.count,
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def recurring(self) -> bool:
        return self.frequency != "once"


@dataclass(frozen=True)
class Occurrence:
    key: datetime  # the scheduled start in UTC: names the occurrence even when it is moved
    starts_at: datetime
    ends_at: datetime
    moved: bool = False


@dataclass(frozen=True)
class Change:
    """An exception: skip the occurrence `original_start`, or move it to `starts_at`-`ends_at`."""

    original_start: datetime
    kind: str  # "skip" or "move"
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@cache
def zone_names() -> frozenset[str]:
    # "localtime" is the machine's own zone file, not an IANA name: it differs per server.
    return frozenset(available_timezones()) - {"localtime"}


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _local_start(s: Schedule) -> datetime:
    return datetime.combine(s.start_date, s.start_time).replace(microsecond=0)


def _rule(s: Schedule, dtstart: datetime) -> rr.rrule:
    kwargs: dict = {"dtstart": dtstart, "interval": s.interval or 1}
    if s.frequency == "weekly":
        kwargs["byweekday"] = sorted(set(s.weekdays)) or [dtstart.weekday()]
    elif s.frequency == "monthly" and s.nth is not None and s.nth_weekday is not None:
        kwargs["byweekday"] = rr.weekday(s.nth_weekday, s.nth)
    elif s.frequency == "monthly":
        kwargs["bymonthday"] = s.month_day or dtstart.day
    if s.until is not None:
        kwargs["until"] = datetime.combine(s.until, time(23, 59, 59))
    if s.count is not None:
        kwargs["count"] = s.count
    return rr.rrule(FREQUENCIES[s.frequency], **kwargs)


def first_local_start(s: Schedule) -> datetime | None:
    """The first local start: the given date, or the first date on or after it the rule
    allows (a weekly window "on Sundays" given a Wednesday starts the next Sunday)."""
    start = _local_start(s)
    if not s.recurring:
        return start
    probe = _rule(s.__class__(**{**s.__dict__, "count": None}), start)
    return probe.after(start, inc=True)


def rule(s: Schedule) -> rr.rrule | None:
    first = first_local_start(s)
    return _rule(s, first) if s.recurring and first is not None else None


def occurrences(
    s: Schedule,
    after: datetime,
    before: datetime,
    changes: list[Change] = (),
    limit: int = MAX_LISTED,
) -> list[Occurrence]:
    """The occurrences that overlap [after, before), moved and skipped ones applied, by start."""
    found = {o.key: o for o in _scheduled(s, after, before, limit)}
    for change in changes:
        found.pop(change.original_start, None)
    for change in changes:
        if change.kind == "move" and change.starts_at < before and change.ends_at > after:
            found[change.original_start] = Occurrence(
                change.original_start, change.starts_at, change.ends_at, moved=True
            )
    listed = sorted(
        (o for o in found.values() if o.ends_at > after and o.starts_at < before),
        key=lambda o: o.starts_at,
    )
    return listed[:limit]


def _scheduled(s: Schedule, after: datetime, before: datetime, limit: int):
    zone = s.zone
    if not s.recurring:
        start = to_utc(_local_start(s), zone)
        if start + s.duration > after and start < before:
            yield Occurrence(start, start, start + s.duration)
        return
    first = first_local_start(s)
    if first is None:
        return
    r = _rule(s, first)
    # Local bounds a day wider than the UTC range: no offset is a day long.
    low = (after - s.duration).astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
    high = before.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    if low - first > MAX_SPAN:
        return
    for n, local in enumerate(r.xafter(low, inc=True)):
        if local > high or n >= limit * 2:
            return
        start = to_utc(local, zone)
        if start + s.duration > after and start < before:
            yield Occurrence(start, start, start + s.duration)


def next_occurrences(
    s: Schedule, now: datetime, n: int, changes: list[Change] = (), within_days: int = 3700
) -> list[Occurrence]:
    """The next `n` occurrences not yet ended (the current one first, if running)."""
    found: dict[datetime, Occurrence] = {}
    start, end = now, now + timedelta(days=within_days)
    while start < end and len(found) < n:
        stop = min(start + timedelta(days=400), end)
        for o in occurrences(s, start, stop, changes):
            found.setdefault(o.key, o)
        start = stop
    return sorted(found.values(), key=lambda o: o.starts_at)[:n]


# -- in words -------------------------------------------------------------------------------


def _list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _length(d: timedelta) -> str:
    minutes = int(d.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d" * bool(days), f"{hours} h" * bool(hours), f"{mins} min" * bool(mins)]
    return " ".join(p for p in parts if p) or "0 min"


def describe(s: Schedule) -> str:
    at = f"at {s.start_time:%H:%M} for {_length(s.duration)} ({s.time_zone})"
    if not s.recurring:
        return f"Once, on {s.start_date:%A %d %B %Y} {at}"
    every = {"daily": "day", "weekly": "week", "monthly": "month"}[s.frequency]
    head = f"Every {s.interval} {every}s" if s.interval > 1 else f"Every {every}"
    if s.frequency == "weekly":
        days = sorted(set(s.weekdays)) or [s.start_date.weekday()]
        head = f"{head} on {_list([WEEKDAYS[d] for d in days])}"
    elif s.frequency == "monthly" and s.nth is not None and s.nth_weekday is not None:
        head = f"{head} on the {NTH.get(s.nth, s.nth)} {WEEKDAYS[s.nth_weekday]}"
    elif s.frequency == "monthly":
        day = s.month_day or s.start_date.day
        head = f"{head} on the last day" if day == -1 else f"{head} on day {day}"
        if day and day > 28:
            head += " (months without it are skipped)"
    tail = f", from {s.start_date:%d %B %Y}"
    if s.until:
        tail += f" until {s.until:%d %B %Y}"
    elif s.count:
        tail += f", {s.count} time{'s' if s.count != 1 else ''}"
    return f"{head} {at}{tail}"


# -- as RFC 5545 ----------------------------------------------------------------------------


def rrule_parts(s: Schedule) -> dict:
    """The RRULE as icalendar's vRecur takes it (UNTIL in UTC, as a zoned DTSTART requires)."""
    parts: dict = {"FREQ": s.frequency.upper()}
    if s.interval > 1:
        parts["INTERVAL"] = s.interval
    first = first_local_start(s)
    if s.frequency == "weekly":
        parts["BYDAY"] = [RRULE_DAYS[d] for d in sorted(set(s.weekdays)) or [first.weekday()]]
    elif s.frequency == "monthly" and s.nth is not None and s.nth_weekday is not None:
        parts["BYDAY"] = [f"{s.nth}{RRULE_DAYS[s.nth_weekday]}"]
    elif s.frequency == "monthly":
        parts["BYMONTHDAY"] = [s.month_day or first.day]
    if s.until is not None:
        parts["UNTIL"] = to_utc(datetime.combine(s.until, time(23, 59, 59)), s.zone)
    if s.count is not None:
        parts["COUNT"] = s.count
    return parts
