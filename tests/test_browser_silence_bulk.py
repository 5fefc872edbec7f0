"""Bulk expire in a real browser (Debian's Chromium through Playwright against `live_server`
and the shared Alertmanager 0.25): tick every silence on the page, confirm, and read each
silence's result, swapped in by htmx at the result page's own address."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alertui.integrations.alertmanager import AlertmanagerClient
from alertui.matchers import Matcher
from alertui.silences import services
from alertui.silences.services import Actor, SilenceValues
from tests.test_browser_alerts import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_expires_every_silence_of_the_page_in_bulk(browsing, live_server, am, silencer, tag):
    now = timezone.now()
    silences = [
        services.create_silence(
            Actor(silencer),
            SilenceValues(
                (Matcher("test", "=", tag), Matcher("job", "=", job)),
                now,
                now + timedelta(hours=2),
                f"{job} deploy",
            ),
        )
        for job in ("api", "db", "web")
    ]
    page = browsing.page
    log_in(browsing, live_server.url, "alice", next_path=f"/silences/?q={tag}")

    page.get_by_label("Select every silence on this page").check()
    page.get_by_role("button", name="Expire selected").click()
    expect(page.get_by_role("heading", name="Expire 3 silences?")).to_be_visible()
    page.evaluate("window.stillThisPage = true")  # gone if the browser loads a new page
    page.get_by_role("button", name="Expire 3 silences").click()

    expect(page.get_by_role("heading", name="Expired: 3 of 3")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/silences/bulk/[0-9a-f]{32}/$"))
    assert page.evaluate("window.stillThisPage === true"), "not swapped in by htmx"
    client = AlertmanagerClient([am.url])
    assert [client.get_silence(s.id).state for s in silences] == ["expired"] * 3
    assert browsing.unexpected_errors() == []
