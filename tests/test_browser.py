"""The pages in a real browser: Debian's Chromium driven by Playwright against `live_server`
(the set-up and its fixtures: tests/browsing.py)."""

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from tests.browsing import WAIT, am_silence, log_in, parse_am_time

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_silences_and_expires_through_the_pages(
    browsing, live_server, silencer, firing, alertmanager_025, tag
):
    b, page, base = browsing, browsing.page, live_server.url

    # 1. Log in through the form, after being sent there from the home page.
    log_in(b, base, "alice")
    b.shot("01-logged-in")

    # 2. The form pre-filled from a link; the live preview follows the matcher rows.
    page.goto(f"{base}/silences/new/?" + urlencode({"filter": f'test="{tag}"'}))
    expect(page.get_by_role("heading", name="New silence")).to_be_visible(timeout=WAIT)
    rows = page.locator("#matcher-rows .matcher-row")
    expect(rows).to_have_count(1, timeout=WAIT)
    expect(rows.nth(0).get_by_role("textbox", name="Label", exact=True)).to_have_value("test")
    expect(rows.nth(0).get_by_role("combobox", name="Operator", exact=True)).to_have_value("=")
    expect(rows.nth(0).get_by_role("textbox", name="Value", exact=True)).to_have_value(tag)
    # The region, not #preview: the swap currently nests a second #preview inside the first
    # (see test_the_preview_replaces_itself_in_place).
    preview = page.get_by_role("region", name="Affected alerts")
    expect(preview).to_contain_text("2 current alerts would be silenced", timeout=WAIT)
    expect(preview).to_contain_text("HighErrorRate", timeout=WAIT)
    expect(preview).to_contain_text("DiskFull", timeout=WAIT)
    # The annotation's markup is never rendered as markup, here or anywhere on the page.
    assert page.locator("img").count() == 0

    page.get_by_role("button", name="Add matcher").click()
    expect(rows).to_have_count(2, timeout=WAIT)
    expect(rows.nth(1).get_by_role("textbox", name="Label", exact=True)).to_be_focused(timeout=WAIT)
    rows.nth(1).get_by_role("textbox", name="Label", exact=True).fill("alertname")
    rows.nth(1).get_by_role("textbox", name="Value", exact=True).fill("HighErrorRate")
    expect(preview).to_contain_text("1 current alert would be silenced", timeout=WAIT)
    expect(preview).to_contain_text("HighErrorRate", timeout=WAIT)
    expect(preview).not_to_contain_text("DiskFull", timeout=WAIT)
    assert page.locator("img").count() == 0
    b.shot("02-preview-narrowed")

    # 3. Duration preset, comment, creator shown but not editable; create.
    page.get_by_role("group", name="Duration presets").get_by_role(
        "button", name="4h", exact=True
    ).click()
    expect(page.get_by_label("Duration", exact=True)).to_have_value("4h", timeout=WAIT)
    comment = f"Browser test {tag}: deploying the api"
    page.get_by_label("Comment").fill(comment)
    expect(page.locator("#silence-form")).to_contain_text("Creator: alice", timeout=WAIT)
    creator_fields = page.locator(
        "#silence-form :is(input, textarea, select)"
        ":is([name=created_by i], [name=createdBy i], [name=creator i], [name=author i])"
    )
    expect(creator_fields).to_have_count(0)
    form_values = page.locator("#silence-form").evaluate(
        "form => [...form.elements].filter(e => e.type !== 'hidden').map(e => e.value)"
    )
    assert "alice" not in form_values
    b.shot("03-form-filled")
    page.get_by_role("button", name="Create silence").click()

    # 4. The detail page; Alertmanager holds exactly what was asked, under alice's name.
    expect(page).to_have_url(re.compile(r"/silences/[0-9a-f-]{36}/$"), timeout=WAIT)
    silence_id = re.search(r"/silences/([0-9a-f-]{36})/$", page.url).group(1)
    # No sync ran: the count comes from applying the silence to the snapshot at once.
    expect(page.locator(".messages")).to_contain_text(
        re.compile(r"Silenced 1 alert until (\d{4}-\d\d-\d\d )?\d\d:\d\d \(HighErrorRate\)\."),
        timeout=WAIT,
    )
    expect(page.locator("h1")).to_contain_text(silence_id, timeout=WAIT)
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("alice", timeout=WAIT)
    expect(facts).to_contain_text(comment, timeout=WAIT)
    in_am = am_silence(alertmanager_025, silence_id)
    assert in_am["createdBy"] == "alice"
    assert in_am["comment"] == comment
    assert in_am["status"]["state"] == "active"
    assert sorted(
        (m["name"], m["value"], m["isRegex"], m.get("isEqual", True)) for m in in_am["matchers"]
    ) == [("alertname", "HighErrorRate", False, True), ("test", tag, False, True)]
    length = parse_am_time(in_am["endsAt"]) - parse_am_time(in_am["startsAt"])
    assert abs(length - timedelta(hours=4)) <= timedelta(minutes=1), length
    b.shot("04-created")

    # 5. Expire, with a confirmation page in between.
    page.get_by_role("link", name="Expire…").click()
    expect(page.get_by_role("heading", name="Expire this silence?")).to_be_visible(timeout=WAIT)
    b.shot("05a-expire-confirm")
    page.get_by_role("button", name="Expire now").click()
    expect(page).to_have_url(f"{base}/silences/{silence_id}/", timeout=WAIT)
    expect(page.locator(".messages")).to_contain_text("Silence expired", timeout=WAIT)
    expect(page.locator(".page-head .state")).to_have_text("expired", timeout=WAIT)
    assert am_silence(alertmanager_025, silence_id)["status"]["state"] == "expired"
    b.shot("05b-expired")

    # 6. The audit history: both changes by alice, the filter, and the per-silence page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit").click()
    expect(page).to_have_url(f"{base}/audit/", timeout=WAIT)
    history_link = f'a[href="/audit/silence/{silence_id}/"]'
    mine = page.locator("table.audit tbody tr").filter(has=page.locator(history_link))
    expect(mine).to_have_count(2, timeout=WAIT)
    expect(mine.locator(".action")).to_have_text(["expired", "created"], timeout=WAIT)
    for i in range(2):
        expect(mine.nth(i).locator("td").nth(1)).to_have_text("alice", timeout=WAIT)
        expect(mine.nth(i).locator(history_link)).to_contain_text(silence_id[:8], timeout=WAIT)
    b.shot("06a-audit")

    filters = page.get_by_role("search")
    filters.get_by_label("Person").fill("alice")
    filters.get_by_role("group", name="Action").get_by_label("Expired", exact=True).check()
    filters.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"[?&]action=expired(&|$)"), timeout=WAIT)
    expect(page).to_have_url(re.compile(r"[?&]person=alice(&|$)"), timeout=WAIT)
    expect(filters.get_by_label("Person")).to_have_value("alice", timeout=WAIT)
    expect(
        filters.get_by_role("group", name="Action").get_by_label("Expired", exact=True)
    ).to_be_checked(timeout=WAIT)
    every_row = page.locator("table.audit tbody tr")
    expect(every_row.locator(".action")).to_have_text(["expired"], timeout=WAIT)
    expect(mine).to_have_count(1, timeout=WAIT)
    b.shot("06b-audit-filtered")

    mine.first.locator(history_link).click()
    expect(page).to_have_url(f"{base}/audit/silence/{silence_id}/", timeout=WAIT)
    expect(page.locator("h1")).to_contain_text(silence_id, timeout=WAIT)
    expect(page.locator("table.audit tbody tr .action")).to_have_text(
        ["created", "expired"], timeout=WAIT
    )
    b.shot("06c-silence-history")

    # 7. Nothing went wrong in the browser along the way.
    assert b.unexpected_errors() == []


def test_a_viewer_cannot_reach_the_silence_form(browsing, live_server, viewer):
    b, page, base = browsing, browsing.page, live_server.url

    log_in(b, base, "victor")
    expect(page.locator(".topbar .who .badge")).to_have_text("viewer", timeout=WAIT)
    expect(page.get_by_role("link", name="New silence")).to_have_count(0)
    expect(page.get_by_role("button", name="New silence")).to_have_count(0)
    b.shot("01-viewer-list")

    response = page.goto(f"{base}/silences/new/")
    assert response is not None and response.status == 403
    expect(page.locator("body")).to_contain_text("Only silencers can change silences", timeout=WAIT)
    expect(page.locator("#silence-form")).to_have_count(0)
    b.shot("02-viewer-forbidden")

    # The 403 itself is logged by Chromium as a failed resource load; nothing else may be.
    assert b.unexpected_errors("status of 403") == []


def test_the_preview_replaces_itself_in_place(browsing, live_server, silencer, firing, tag):
    b, page, base = browsing, browsing.page, live_server.url
    log_in(b, base, "alice")
    page.goto(f"{base}/silences/new/?" + urlencode({"filter": f'test="{tag}"'}))
    region = page.get_by_role("region", name="Affected alerts")
    expect(region).to_contain_text("2 current alerts would be silenced", timeout=WAIT)
    page.get_by_role("textbox", name="Value", exact=True).fill("no-such-value")
    expect(region).to_contain_text("0 current alerts would be silenced", timeout=WAIT)
    expect(page.locator("#preview")).to_have_count(1, timeout=1000)
    expect(page.locator("[aria-live]")).to_have_count(1, timeout=1000)
