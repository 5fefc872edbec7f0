"""The audit page's time range in a real browser whose zone is not UTC (America/New_York).

The table shows times in the viewer's zone; the From/Until fields and the presets must mean
the same zone, or "last 24 h" and a typed range pick other rows than the times shown say. Same
set-up as tests/browsing.py (Debian's Chromium through Playwright against `live_server`).
The events are placed relative to the real clock, which the browser shares, hours or days
apart, so the minutes a test takes cannot move an event across a boundary.
"""

import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browsing import WAIT, open_page
from tests.test_browser_alerts import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZONE = "America/New_York"
NEW_YORK = ZoneInfo(ZONE)


@pytest.fixture
def in_new_york(chromium, tmp_path):
    with open_page(
        chromium, tmp_path, viewport={"width": 1280, "height": 900}, timezone_id=ZONE
    ) as b:
        yield b


@pytest.fixture
def events(db) -> dict[str, datetime]:
    """Events by "pat" at whole minutes: {comment: time}."""
    from alertui.audit.models import AuditEvent

    now = timezone.now().replace(second=0, microsecond=0)
    boundary = now - timedelta(days=1, hours=6)
    times = {
        "two hours ago": now - timedelta(hours=2),
        "on the boundary": boundary,
        "a minute before the boundary": boundary - timedelta(minutes=1),
        "three days ago": now - timedelta(days=3),
        "ten days ago": now - timedelta(days=10),
        "forty days ago": now - timedelta(days=40),
    }
    for comment, at in times.items():
        AuditEvent.objects.create(
            at=at,
            action="created",
            source="browser",
            actor_name="pat",
            silence_id="s-" + comment.replace(" ", "-"),
            matchers=[["alertname", "=", "DiskFull"]],
            matchers_text='alertname="DiskFull"',
            comment=comment,
        )
    return times


def wall(when: datetime) -> str:
    """`when` as the page shows it in New York, without the zone's name."""
    return when.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M:%S")


def shown(page) -> list[tuple[str, str]]:
    """(comment, time shown) of each row, the zone's name cut off the time."""
    rows = page.locator("table.audit tbody tr")
    comments = rows.locator("td.comment").all_inner_texts()
    times = rows.locator("td:first-child time").all_inner_texts()
    return [(c.strip(), t.strip()[:19]) for c, t in zip(comments, times, strict=True)]


def test_the_presets_and_a_typed_range_mean_the_zone_the_table_shows(
    in_new_york, live_server, silencer, events
):
    b, page, base = in_new_york, in_new_york.page, live_server.url
    log_in(b, base, "alice")
    page.goto(base + "/audit/?person=pat")
    filters = page.get_by_role("search")
    since = filters.get_by_label(re.compile(r"^From"))
    expect(since).to_have_accessible_name(f"From ({ZONE})", timeout=WAIT)
    expect(filters.get_by_label(re.compile(r"^Until"))).to_have_accessible_name(f"Until ({ZONE})")
    # Every time in the table is shown in New York.
    expect(page.locator("table.audit tbody tr")).to_have_count(6, timeout=WAIT)
    assert shown(page) == [(c, wall(at)) for c, at in events.items()]

    # "Last 7 d": the events of the last week, and From says when that began, in New York.
    page.get_by_role("navigation", name="Time range").get_by_role("link", name="Last 7 d").click()
    expect(page).to_have_url(re.compile(r"[?&]tz=America%2FNew_York(&|$)"), timeout=WAIT)
    expect(page.locator("table.audit tbody tr")).to_have_count(4, timeout=WAIT)
    assert [c for c, _ in shown(page)] == [
        "two hours ago",
        "on the boundary",
        "a minute before the boundary",
        "three days ago",
    ]
    query = parse_qs(urlsplit(page.url).query)
    assert query["person"] == ["pat"] and "until" not in query
    began = datetime.fromisoformat(since.input_value()).replace(tzinfo=NEW_YORK)
    week_ago = timezone.now() - timedelta(days=7)
    assert abs(began - week_ago) < timedelta(minutes=5), (since.input_value(), week_ago)
    # What the table shows agrees with the field: nothing before the start it names.
    assert all(time >= since.input_value().replace("T", " ") for _, time in shown(page))
    b.shot("01-last-7-days")

    page.get_by_role("navigation", name="Time range").get_by_role("link", name="Last 24 h").click()
    expect(page.locator("table.audit tbody tr")).to_have_count(1, timeout=WAIT)
    assert [c for c, _ in shown(page)] == ["two hours ago"]

    # A range typed as the table shows it: from the boundary event's time, as shown.
    boundary = events["on the boundary"]
    since.fill(boundary.astimezone(NEW_YORK).strftime("%Y-%m-%dT%H:%M"))
    filters.get_by_label(re.compile(r"^Until")).fill(
        (boundary + timedelta(hours=1)).astimezone(NEW_YORK).strftime("%Y-%m-%dT%H:%M")
    )
    filters.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"[?&]until="), timeout=WAIT)
    expect(page.locator("table.audit tbody tr")).to_have_count(1, timeout=WAIT)
    assert shown(page) == [("on the boundary", wall(boundary))]
    b.shot("02-typed-range")
    assert b.unexpected_errors() == []
