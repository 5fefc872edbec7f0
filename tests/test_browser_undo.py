"""Undo, from the message a silence change leaves: it expires a silence just made, and recreates
one just expired; the page with the message stays accessible (light and dark)."""

from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from tests import test_browser_alerts
from tests.test_accessibility import describe, run_axe
from tests.test_browser_alerts import alerts_shown, filtered, log_in

three_alerts = test_browser_alerts.three_alerts
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_undo_expires_a_silence_just_made_and_recreates_one_just_expired(
    browsing, live_server, settings, silencer, three_alerts, tag, scheme
):
    settings.ALERTS_REFRESH_SECONDS = 3600
    b, page, base = browsing, browsing.page, live_server.url
    page.emulate_media(color_scheme=scheme)
    log_in(b, base, "alice")
    here = filtered(tag)
    page.goto(
        f"{base}/silences/new/?" + urlencode({"alert": three_alerts["HighErrorRate"], "next": here})
    )
    page.get_by_label("Comment").fill("x")
    page.get_by_label("Comment").press("Control+Enter")
    expect(page).to_have_url(base + here)
    expect(alerts_shown(page)).to_have_count(2)
    b.shot("01")
    v = [x for x in run_axe(page) if x["impact"] in ("serious", "critical")]
    assert not v, describe(v)
    page.get_by_role("button", name="Undo").click()
    expect(page).to_have_url(base + here)
    expect(page.locator(".messages")).to_contain_text("Silence expired. 1 alert notifies again.")
    expect(alerts_shown(page)).to_have_count(3)
    b.shot("02")
    page.get_by_role("button", name="Undo").click()
    expect(page.locator(".messages")).to_contain_text("Silenced 1 alert until")
    expect(alerts_shown(page)).to_have_count(2)
    b.shot("03")
    assert b.unexpected_errors() == []
