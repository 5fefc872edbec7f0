"""The maintenance calendar feed: behind a per-person revocable token, and read by a second,
independent parser (recurring-ical-events) into exactly the occurrences alertui shows, across
DST changes, month ends, skipped and moved occurrences."""

import re
from datetime import UTC, date, datetime, time, timedelta

import icalendar
import pytest
import recurring_ical_events

from alertui.maintenance.models import Window, WindowException
from alertui.maintenance.windows import between

pytestmark = pytest.mark.django_db

YEAR = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def windows(silencer):
    def make(name, **schedule):
        return Window.objects.create(
            name=name,
            comment=f"{name}, ticket OPS-1",
            owner=silencer,
            matchers=[["a", "=", "b"]],
            matchers_text='a="b"',
            **schedule,
        )

    backup = make(
        "backup",
        start_date=date(2027, 1, 1),
        start_time=time(2, 0),
        time_zone="Europe/Berlin",
        duration=timedelta(hours=2),
        frequency="weekly",
        weekdays=[6],
    )
    WindowException.objects.create(window=backup, original_start=utc(2027, 3, 21, 1), kind="skip")
    WindowException.objects.create(
        window=backup,
        original_start=utc(2027, 4, 11, 0),
        kind="move",
        starts_at=utc(2027, 4, 12, 20),
        ends_at=utc(2027, 4, 12, 23),
    )
    return [
        backup,
        make(
            "month end",
            start_date=date(2027, 1, 1),
            start_time=time(22, 0),
            time_zone="America/New_York",
            duration=timedelta(hours=1),
            frequency="monthly",
            month_day=-1,
        ),
        make(
            "patch night",
            start_date=date(2027, 1, 1),
            start_time=time(1, 30),
            time_zone="America/New_York",
            duration=timedelta(hours=3),
            frequency="monthly",
            nth=2,
            nth_weekday=1,
            until=date(2027, 11, 30),
        ),
        make(
            "nightly",
            start_date=date(2027, 3, 10),
            start_time=time(2, 30),
            time_zone="America/New_York",
            duration=timedelta(minutes=30),
            frequency="daily",
            count=10,
        ),
        make(
            "migration",
            start_date=date(2027, 6, 8),
            start_time=time(20, 0),
            time_zone="Europe/Berlin",
            duration=timedelta(hours=4),
            frequency="once",
        ),
    ]


def feed_url(client, **data) -> str:
    page = client.post("/maintenance/calendar/", data).content.decode()
    [url] = re.findall(r'class="feed-url" readonly value="([^"]+)"', page)
    return url.replace("http://testserver", "")


def read_feed(client, url):
    client.logout()  # a calendar app has no session
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(response.content)


def second_reading(calendar) -> dict[str, list[tuple[datetime, datetime]]]:
    found: dict[str, list] = {}
    for event in recurring_ical_events.of(calendar).between(*YEAR):
        start, end = event["DTSTART"].dt, event["DTEND"].dt if "DTEND" in event else None
        end = end or start + event["DURATION"].dt
        name = str(event["SUMMARY"]).removeprefix("Maintenance: ")
        found.setdefault(name, []).append((start.astimezone(UTC), end.astimezone(UTC)))
    return {k: sorted(v) for k, v in found.items()}


def alertuis_reading(windows) -> dict[str, list[tuple[datetime, datetime]]]:
    return {w.name: [(o.starts_at, o.ends_at) for o in between(w, *YEAR)] for w in windows}


def test_a_second_parser_reads_the_same_occurrences_alertui_shows(silencer_client, windows):
    calendar = read_feed(silencer_client, feed_url(silencer_client))
    theirs, ours = second_reading(calendar), alertuis_reading(windows)
    assert theirs == ours
    backup = dict(ours["backup"])
    assert utc(2027, 3, 21, 1) not in backup  # skipped
    assert backup[utc(2027, 4, 12, 20)] == utc(2027, 4, 12, 23)  # moved
    assert utc(2027, 3, 28, 1) in backup and utc(2027, 10, 31, 0) in backup  # both DST days
    # 31 December 22:00 in New York is already 2028 in UTC.
    assert len(ours["nightly"]) == 10 and len(ours["month end"]) == 11


def test_a_window_feed_holds_that_window_only(silencer_client, windows):
    url = feed_url(silencer_client, window=str(windows[1].pk))
    assert url.startswith(f"/maintenance/{windows[1].pk}/calendar.ics?token=")
    theirs = second_reading(read_feed(silencer_client, url))
    assert list(theirs) == ["month end"]
    assert theirs["month end"][1] == (utc(2027, 3, 1, 3), utc(2027, 3, 1, 4))  # 28 Feb 22:00 EST


def test_the_feed_needs_a_current_token(client, silencer_client, windows):
    url = feed_url(silencer_client)
    assert client.get("/maintenance/calendar.ics").status_code == 404
    assert client.get("/maintenance/calendar.ics?token=guess").status_code == 404
    assert client.get(url).status_code == 200
    page = silencer_client.get("/maintenance/calendar/").content.decode()
    [revoke] = re.findall(r'action="(/maintenance/calendar/\d+/revoke/)"', page)
    silencer_client.post(revoke)
    assert client.get(url).status_code == 404


def test_a_paused_or_deleted_window_leaves_the_feed(silencer_client, windows):
    url = feed_url(silencer_client)
    Window.objects.filter(pk=windows[0].pk).update(paused=True)
    Window.objects.filter(pk=windows[1].pk).update(deleted_at=utc(2026, 1, 1))
    theirs = second_reading(read_feed(silencer_client, url))
    assert sorted(theirs) == ["migration", "nightly", "patch night"]


@pytest.mark.parametrize("window", ["²", "٣", "99999999999999999999999"])
def test_a_window_field_that_is_no_window_gives_the_feed_of_all_windows(
    silencer_client, windows, window
):
    # Digits Python's isdigit() accepts but int() does not, and a number no row can have.
    url = feed_url(silencer_client, window=window)
    assert url.startswith("/maintenance/calendar.ics?token=")


def test_a_window_named_over_several_lines_still_has_its_feed(silencer_client, windows):
    # The API takes such a name; the feed is one calendar with one window's events, not two.
    Window.objects.filter(pk=windows[1].pk).update(name="month end\r\nBEGIN:VEVENT\r\nSUMMARY:x")
    url = feed_url(silencer_client, window=str(windows[1].pk))

    calendar = read_feed(silencer_client, url)

    assert str(calendar["X-WR-CALNAME"]) == "Maintenance: month end BEGIN:VEVENT SUMMARY:x"
    assert {str(e["UID"]) for e in calendar.walk("VEVENT")} == {f"{windows[1].uid}@alertui"}
