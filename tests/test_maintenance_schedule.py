"""Maintenance window schedules: occurrences in UTC across DST changes and month ends, exceptions,
the schedule in words, and the checks a schedule must pass."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from alertui.maintenance import schedule as sch
from alertui.maintenance.models import Window, WindowException
from alertui.maintenance.validation import schedule_errors
from alertui.maintenance.windows import upcoming

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def starts(s, after, before, changes=()):
    return [(o.starts_at, o.ends_at) for o in sch.occurrences(s, after, before, list(changes))]


def test_it_keeps_a_weekly_berlin_window_at_two_local_across_both_dst_changes():
    sunday = sch.Schedule(
        date(2027, 1, 3), time(2, 0), "Europe/Berlin", timedelta(hours=2), "weekly", weekdays=(6,)
    )
    spring = starts(sunday, utc(2027, 3, 20), utc(2027, 4, 8))
    # 28 March 2027 02:00 does not exist in Berlin: the offset before the gap (CET) applies.
    assert spring == [
        (utc(2027, 3, 21, 1), utc(2027, 3, 21, 3)),
        (utc(2027, 3, 28, 1), utc(2027, 3, 28, 3)),
        (utc(2027, 4, 4, 0), utc(2027, 4, 4, 2)),  # 02:00 CEST
    ]
    autumn = starts(sunday, utc(2027, 10, 23), utc(2027, 11, 10))
    # 31 October 02:00 happens twice: the first (CEST) is meant.
    assert autumn == [
        (utc(2027, 10, 24, 0), utc(2027, 10, 24, 2)),
        (utc(2027, 10, 31, 0), utc(2027, 10, 31, 2)),
        (utc(2027, 11, 7, 1), utc(2027, 11, 7, 3)),  # 02:00 CET again
    ]
    for start, _ in spring[:1] + spring[2:] + autumn:
        assert start.astimezone(BERLIN).time() == time(2, 0)


def test_it_keeps_a_daily_new_york_window_local_across_both_dst_changes():
    nightly = sch.Schedule(
        date(2027, 1, 1), time(1, 30), "America/New_York", timedelta(minutes=90), "daily"
    )
    spring = starts(nightly, utc(2027, 3, 13), utc(2027, 3, 16))
    assert [s for s, _ in spring] == [
        utc(2027, 3, 13, 6, 30),
        utc(2027, 3, 14, 6, 30),
        utc(2027, 3, 15, 5, 30),
    ]
    autumn = starts(nightly, utc(2027, 11, 6), utc(2027, 11, 9))
    # 7 November 01:30 happens twice in New York: the first, still EDT.
    assert [s for s, _ in autumn] == [
        utc(2027, 11, 6, 5, 30),
        utc(2027, 11, 7, 5, 30),
        utc(2027, 11, 8, 6, 30),
    ]
    for start, end in spring + autumn:
        assert start.astimezone(NEW_YORK).time() == time(1, 30)
        assert end - start == timedelta(minutes=90)


def test_a_start_inside_the_spring_gap_takes_the_offset_before_it():
    s = sch.Schedule(
        date(2027, 3, 13), time(2, 30), "America/New_York", timedelta(hours=1), "daily", count=3
    )
    assert [o.starts_at for o in sch.occurrences(s, utc(2027, 3, 1), utc(2027, 4, 1))] == [
        utc(2027, 3, 13, 7, 30),
        utc(2027, 3, 14, 7, 30),
        utc(2027, 3, 15, 6, 30),
    ]


def test_it_finds_the_last_day_of_each_month_and_skips_months_without_the_31st():
    last = sch.Schedule(
        date(2027, 1, 1), time(23, 0), "UTC", timedelta(hours=2), "monthly", month_day=-1
    )
    assert [s for s, _ in starts(last, utc(2027, 1, 1), utc(2027, 5, 1))] == [
        utc(2027, 1, 31, 23),
        utc(2027, 2, 28, 23),
        utc(2027, 3, 31, 23),
        utc(2027, 4, 30, 23),
    ]
    # The window of 31 January runs past the month end into 1 February.
    assert starts(last, utc(2027, 2, 1), utc(2027, 2, 2)) == [
        (utc(2027, 1, 31, 23), utc(2027, 2, 1, 1))
    ]
    day31 = sch.Schedule(
        date(2027, 1, 1), time(4, 0), "Europe/Berlin", timedelta(hours=1), "monthly", month_day=31
    )
    assert [s.date() for s, _ in starts(day31, utc(2027, 1, 1), utc(2027, 8, 1))] == [
        date(2027, 1, 31),
        date(2027, 3, 31),
        date(2027, 5, 31),
        date(2027, 7, 31),
    ]


def test_it_finds_the_nth_weekday_of_each_month():
    patch_night = sch.Schedule(
        date(2027, 1, 1),
        time(22, 0),
        "Europe/Berlin",
        timedelta(hours=3),
        "monthly",
        nth=2,
        nth_weekday=1,
    )
    assert [
        s.astimezone(BERLIN).date()
        for s, _ in starts(patch_night, utc(2027, 1, 1), utc(2027, 5, 1))
    ] == [date(2027, 1, 12), date(2027, 2, 9), date(2027, 3, 9), date(2027, 4, 13)]
    last_friday = sch.Schedule(
        date(2027, 1, 1),
        time(18, 0),
        "UTC",
        timedelta(hours=1),
        "monthly",
        nth=-1,
        nth_weekday=4,
        count=2,
    )
    assert [s.date() for s, _ in starts(last_friday, utc(2027, 1, 1), utc(2028, 1, 1))] == [
        date(2027, 1, 29),
        date(2027, 2, 26),
    ]


def test_until_is_the_last_local_day_an_occurrence_may_start():
    s = sch.Schedule(
        date(2027, 6, 1),
        time(23, 30),
        "America/New_York",
        timedelta(hours=1),
        "daily",
        until=date(2027, 6, 3),
    )
    assert [
        o.starts_at.astimezone(NEW_YORK).date()
        for o in sch.occurrences(s, utc(2027, 5, 1), utc(2027, 7, 1))
    ] == [date(2027, 6, 1), date(2027, 6, 2), date(2027, 6, 3)]


def test_a_weekly_window_starts_on_the_first_chosen_weekday_from_its_date():
    s = sch.Schedule(
        date(2027, 1, 6), time(2, 0), "UTC", timedelta(hours=1), "weekly", weekdays=(0, 6), count=3
    )  # 6 January 2027 is a Wednesday
    assert [o.starts_at.date() for o in sch.occurrences(s, utc(2027, 1, 1), utc(2027, 2, 1))] == [
        date(2027, 1, 10),
        date(2027, 1, 11),
        date(2027, 1, 17),
    ]


def test_exceptions_skip_and_move_occurrences():
    s = sch.Schedule(
        date(2027, 1, 3), time(2, 0), "UTC", timedelta(hours=2), "weekly", weekdays=(6,)
    )
    changes = [
        sch.Change(utc(2027, 1, 10, 2), "skip"),
        sch.Change(utc(2027, 1, 17, 2), "move", utc(2027, 1, 18, 20), utc(2027, 1, 18, 23)),
    ]
    listed = sch.occurrences(s, utc(2027, 1, 1), utc(2027, 1, 25), changes)
    assert [(o.key, o.starts_at, o.moved) for o in listed] == [
        (utc(2027, 1, 3, 2), utc(2027, 1, 3, 2), False),
        (utc(2027, 1, 17, 2), utc(2027, 1, 18, 20), True),
        (utc(2027, 1, 24, 2), utc(2027, 1, 24, 2), False),
    ]


@pytest.mark.django_db
def test_upcoming_lists_the_running_occurrence_first_then_the_next(silencer):
    window = Window.objects.create(
        name="backup",
        comment="db backup",
        owner=silencer,
        start_date=date(2027, 1, 3),
        start_time=time(2, 0),
        time_zone="Europe/Berlin",
        duration=timedelta(hours=2),
        frequency="weekly",
        weekdays=[6],
    )
    WindowException.objects.create(window=window, original_start=utc(2027, 3, 28, 1), kind="skip")
    with time_machine.travel(utc(2027, 3, 21, 2), tick=False):
        listed = upcoming(window, 3)
    assert [o.starts_at for o in listed] == [
        utc(2027, 3, 21, 1),
        utc(2027, 4, 4, 0),
        utc(2027, 4, 11, 0),
    ]


def test_it_says_the_schedule_in_words():
    assert sch.describe(
        sch.Schedule(
            date(2027, 1, 3),
            time(2, 0),
            "Europe/Berlin",
            timedelta(hours=2),
            "weekly",
            weekdays=(6, 2),
        )
    ) == (
        "Every week on Wednesday and Sunday at 02:00 for 2 h (Europe/Berlin), from 03 January 2027"
    )
    assert sch.describe(
        sch.Schedule(
            date(2027, 1, 1),
            time(22, 0),
            "UTC",
            timedelta(minutes=90),
            "monthly",
            nth=2,
            nth_weekday=1,
            count=6,
        )
    ) == (
        "Every month on the second Tuesday at 22:00 for 1 h 30 min (UTC), from 01 January 2027, "
        "6 times"
    )
    assert sch.describe(sch.Schedule(date(2027, 2, 9), time(20, 0), "UTC", timedelta(hours=3))) == (
        "Once, on Tuesday 09 February 2027 at 20:00 for 3 h (UTC)"
    )


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Unknown time zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone", "Unknown time zone"),
        ({"duration": timedelta(hours=25)}, "duration", "shorter than the time between"),
        ({"duration": timedelta(days=40)}, "duration", "at most"),
        ({"duration": timedelta(seconds=20)}, "duration", "at least one minute"),
        ({"interval": 0}, "interval", "1 to 52"),
        ({"count": 5, "until": date(2027, 3, 1)}, "count", "not both"),
        ({"until": date(2026, 12, 1)}, "until", "before the first date"),
        ({"weekdays": (7,)}, "weekdays", "Weekdays are"),
        ({"month_day": 0, "frequency": "monthly"}, "month_day", "1 to 31"),
        ({"nth": 5, "nth_weekday": 1, "frequency": "monthly"}, "nth", "first, second"),
        ({"frequency": "hourly"}, "frequency", "once, daily"),
    ],
)
def test_it_refuses_a_bad_schedule_and_says_why(settings, changes, field, says):
    settings.SILENCE_MAX_DURATION = 30 * 86400
    base = {
        "start_date": date(2027, 1, 1),
        "start_time": time(2, 0),
        "time_zone": "Europe/Berlin",
        "duration": timedelta(hours=2),
        "frequency": "daily",
    }
    errors = schedule_errors(sch.Schedule(**{**base, **changes}))
    assert says in errors[field]


def test_a_weekly_window_may_last_almost_a_week_but_two_days_a_week_must_not_overlap():
    base = {
        "start_date": date(2027, 1, 4),
        "start_time": time(0, 0),
        "time_zone": "UTC",
        "frequency": "weekly",
    }
    assert schedule_errors(sch.Schedule(**base, duration=timedelta(days=6), weekdays=(0,))) == {}
    overlapping = sch.Schedule(**base, duration=timedelta(days=2), weekdays=(0, 1))
    assert "shorter than the time between" in schedule_errors(overlapping)["duration"]
