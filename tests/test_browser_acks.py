"""Acknowledging in a real browser: a group acknowledged from its header on the alerts page,
the badge on its rows saying who and how long ago (the age written by the browser from the
absolute time), then the acknowledgement ended from the row.

Same set-up as tests/browsing.py (Debian's Chromium through Playwright against
`live_server`, the shared Alertmanager 0.25, two alerts labelled test=<tag>).
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from alertui.acks.models import Acknowledgement
from tests.browsing import WAIT, am_silence, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_acknowledges_a_group_shows_the_badge_and_ends_it(
    browsing, live_server, silencer, firing, alertmanager_025, tag
):
    b, page, base = browsing, browsing.page, live_server.url
    log_in(b, base, "alice")
    query = urlencode([("q", f'test="{tag}"'), ("state", "active"), ("state", "silenced")])
    page.goto(f"{base}/alerts/?{query}")
    group = page.get_by_role("region", name="alertname DiskFull")
    expect(group.locator("details.alert")).to_have_count(1, timeout=WAIT)
    page.get_by_label("Acknowledge for").select_option("1h")
    b.shot("01-before")
    group.get_by_role("button", name="Acknowledge group").click()

    expect(page.locator(".messages")).to_contain_text("Acknowledged for 1h", timeout=WAIT)
    expect(page).to_have_url(re.compile(r"/alerts/\?q=test"), timeout=WAIT)
    group = page.get_by_role("region", name="alertname DiskFull")
    badge = group.locator(".badge.ack")
    expect(badge).to_have_count(1, timeout=WAIT)
    # "0s ago" or "3s ago": written by the browser from the absolute time the row carries.
    expect(badge).to_have_text(re.compile(r"^Acknowledged by alice \d+s ago$"), timeout=WAIT)
    expect(group.locator("details.alert.silenced")).to_have_count(1, timeout=WAIT)
    # The other group is not acknowledged.
    other = page.get_by_role("region", name="alertname HighErrorRate")
    expect(other.locator(".badge.ack")).to_have_count(0)
    ack = Acknowledgement.objects.get()
    assert am_silence(alertmanager_025, ack.silence_id)["createdBy"] == "alice"
    b.shot("02-acknowledged")

    group.get_by_role("button", name="End acknowledgement").click()

    expect(page.locator(".messages")).to_contain_text(
        "Acknowledgement of alice ended", timeout=WAIT
    )
    group = page.get_by_role("region", name="alertname DiskFull")
    expect(group.locator(".badge.ack")).to_have_count(0, timeout=WAIT)
    expect(group.locator("details.alert.active")).to_have_count(1, timeout=WAIT)
    assert am_silence(alertmanager_025, ack.silence_id)["status"]["state"] == "expired"
    b.shot("03-ended")
    assert b.unexpected_errors() == []
