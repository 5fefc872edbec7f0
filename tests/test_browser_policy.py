"""The silence policy in a real browser (Debian's Chromium through Playwright, as in
tests/browsing.py): the form's verdict follows what is typed, before anything is sent, and
a warning asks for a tick before the silence is made in Alertmanager 0.25."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from tests.api_client import silences_in_am
from tests.browsing import WAIT, log_in
from tests.policy_helpers import make_rule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_form_shows_the_verdict_live_and_asks_to_confirm_a_warning(
    browsing, live_server, silencer, am, tag
):
    make_rule("ticket", "comment", pattern=r"[A-Z]+-[0-9]+", explanation="Name the ticket.")
    make_rule("a-day", "max_duration", mode="warn", max_duration="1d")
    b, page, base = browsing, browsing.page, live_server.url
    log_in(b, base, "alice")

    page.goto(f"{base}/silences/new/?" + urlencode({"filter": f'test="{tag}"'}))
    verdict = page.locator("#policy-verdict")
    expect(verdict).to_contain_text("ticket: The comment does not", timeout=WAIT)
    expect(verdict).to_contain_text("Name the ticket.")
    page.get_by_label("Comment").fill(f"deploy {tag} OPS-12")
    expect(verdict).not_to_contain_text("refuses", timeout=WAIT)
    page.get_by_label("Duration", exact=True).fill("3d")
    expect(verdict).to_contain_text("a-day: Silences may last at most 1d", timeout=WAIT)
    b.shot("01-warned-before-sending")
    assert silences_in_am(am, tag) == []

    page.get_by_role("button", name="Create silence").click()
    go_ahead = page.get_by_label("Go ahead despite the warnings")
    expect(go_ahead).to_be_visible(timeout=WAIT)
    assert silences_in_am(am, tag) == []
    go_ahead.check()
    page.get_by_role("button", name="Create silence").click()

    expect(page.locator(".messages")).to_contain_text("Silence created", timeout=WAIT)
    [made] = silences_in_am(am, tag)
    assert made["comment"] == f"deploy {tag} OPS-12"
    # The form sent back for confirmation is a 400, which Chromium logs; nothing else may be.
    assert b.unexpected_errors("status of 400") == []
