"""A maintenance window made in a real browser: the form explains the schedule, lists the next
occurrences and previews the alerts it would silence; after the job runs, its pending silence is
on /silences/, marked as the window's.

Same set-up as tests/browsing.py (Debian's Chromium through Playwright against
`live_server`, the shared Alertmanager 0.25, two alerts labelled test=<tag>).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from alertui.maintenance.materialize import materialize
from alertui.maintenance.models import Materialization, Window
from alertui.maintenance.schedule import WEEKDAYS
from tests.browsing import WAIT, log_in
from tests.maintenance_helpers import silences_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_weekly_window_from_the_form_yields_a_pending_silence(
    browsing, live_server, silencer, firing, alertmanager_025, tag
):
    b, page, base = browsing, browsing.page, live_server.url
    log_in(b, base, "alice")
    # Two hours from now (UTC), on that weekday: within the job's 24 h horizon.
    start = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    page.goto(f"{base}/maintenance/new/")
    page.get_by_label("Name").fill(f"weekly deploy {tag}")
    page.get_by_role("textbox", name="Label").fill("test")
    page.get_by_role("textbox", name="Value", exact=True).fill(tag)
    preview = page.locator("#preview")
    expect(preview).to_contain_text("2 current alerts would be silenced", timeout=WAIT)

    page.get_by_label("Repeats").select_option("weekly")
    page.get_by_label("First date").fill(start.date().isoformat())
    page.get_by_label("Start time (local)").fill(f"{start:%H:%M}")
    page.get_by_label("Duration").fill("2h")
    page.get_by_label("Time zone (IANA)").fill("UTC")
    page.get_by_label(WEEKDAYS[start.weekday()], exact=True).check()
    schedule = page.locator("#schedule")
    day = WEEKDAYS[start.weekday()]
    expect(schedule).to_contain_text(
        f"Every week on {day} at {start:%H:%M} for 2 h (UTC)", timeout=WAIT
    )
    expect(schedule.locator("ol.occurrences > li")).to_have_count(5, timeout=WAIT)
    expect(schedule.locator("ol.occurrences > li").first).to_contain_text(
        f"{start:%Y-%m-%d %H:%M}", timeout=WAIT
    )
    b.shot("01-window-form")

    page.get_by_label("Comment (why, and a ticket if there is one)").fill(f"deploys {tag}")
    page.get_by_role("button", name="Create window").click()
    window = Window.objects.get(name=f"weekly deploy {tag}")
    expect(page).to_have_url(f"{base}/maintenance/{window.pk}/", timeout=WAIT)
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"weekly deploy {tag}")

    materialize()
    [pending] = silences_of(alertmanager_025, tag)
    assert pending["status"]["state"] == "pending"
    assert Materialization.objects.get(window=window).silence_id == pending["id"]
    page.goto(f"{base}/silences/?" + urlencode({"state": "pending", "q": tag}))
    row = page.locator("table.silence-list tbody tr")
    expect(row).to_have_count(1, timeout=WAIT)
    badge = row.get_by_role("link", name=re.compile(f"maintenance: weekly deploy {tag}"))
    expect(badge).to_have_attribute("href", f"/maintenance/{window.pk}/")
    b.shot("02-pending-silence")
    assert b.unexpected_errors() == []
