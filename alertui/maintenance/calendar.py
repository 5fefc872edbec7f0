"""Windows as an iCalendar feed (RFC 5545, written by the icalendar library): one event per
window, repeating by its RRULE in its own zone, with skipped occurrences as EXDATE and moved
ones as overriding events (RECURRENCE-ID). A calendar app shows what alertui shows.

A window's duration is elapsed time, as RFC 5545 says a DURATION in hours is; some readers
(recurring-ical-events among them) add it to the local wall time instead, which differs when an
occurrence spans a DST change or starts in the spring gap. Those occurrences get an overriding
event with their UTC times, so every reader agrees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone
from icalendar import Calendar, Event, vRecur

from alertui.maintenance import schedule as sch
from alertui.maintenance.models import Window

PRODID = "-//alertui//maintenance windows//EN"
# The occurrences given explicit UTC times around DST changes: from a month back to two years on.
OVERRIDES_BACK = timedelta(days=31)
OVERRIDES_AHEAD = timedelta(days=2 * 366)


def feed(windows, name: str = "Maintenance windows") -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    # The library escapes line breaks in SUMMARY and DESCRIPTION but refuses them here: a
    # window named over several lines (the API takes it) would break its feed.
    cal.add("x-wr-calname", " ".join(name.split()))
    stamp = timezone.now().astimezone(UTC).replace(microsecond=0)
    for window in windows:
        for event in events(window, stamp):
            cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


def events(window: Window, stamp: datetime) -> list[Event]:
    s = sch.Schedule.of(window)
    first = sch.first_local_start(s)
    if first is None:
        return []
    main = _event(window, stamp)
    main.add("dtstart", first.replace(tzinfo=s.zone))
    main.add("duration", s.duration)
    if s.recurring:
        main.add("rrule", vRecur(sch.rrule_parts(s)))
    found = [main]
    changed = {c.original_start for c in window.exceptions.all()}
    for start, end in _across_dst(s, stamp):
        if start not in changed:
            found.append(_override(window, stamp, start, start, end))
    for change in window.exceptions.all():
        original = change.original_start.astimezone(UTC)
        if change.kind == "skip":
            main.add("exdate", original)
            continue
        found.append(_override(window, stamp, original, change.starts_at, change.ends_at))
    return found


def _override(window, stamp, original, starts_at, ends_at) -> Event:
    event = _event(window, stamp)
    event.add("recurrence-id", original.astimezone(UTC))
    event.add("dtstart", starts_at.astimezone(UTC))
    event.add("dtend", ends_at.astimezone(UTC))
    return event


def _across_dst(s: sch.Schedule, stamp: datetime):
    """Occurrences whose end in local wall time differs from their elapsed end (UTC)."""
    r = sch.rule(s)
    if r is None:
        return
    zone = s.zone
    low = (stamp - OVERRIDES_BACK).astimezone(zone).replace(tzinfo=None)
    high = (stamp + OVERRIDES_AHEAD).astimezone(zone).replace(tzinfo=None)
    for n, local in enumerate(r.xafter(low, inc=True)):
        if local > high or n >= sch.MAX_LISTED:
            return
        start = sch.to_utc(local, zone)
        if sch.to_utc(local + s.duration, zone) != start + s.duration:
            yield start, start + s.duration


def _event(window: Window, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", f"{window.uid}@alertui")
    event.add("dtstamp", stamp)
    event.add("summary", f"Maintenance: {window.name}")
    event.add(
        "description",
        f"{window.comment}\n\nSilences: {window.matchers_text}\nOwner: "
        f"{window.owner.get_username()}",
    )
    event.add("categories", ["maintenance"])
    return event
