"""The alerts page at 3 a.m., in a real browser: the new critical on the first screen whatever
else fires, silenced and inhibited rows that say by whom and what, the row's runbook and
label chips, and the keyboard (j/k, s, ?).

Same set-up as tests/test_browser_alerts.py (Debian's Chromium through Playwright against
`live_server`, the shared Alertmanager 0.25, synthetic alerts posted to it and synced).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests import test_browser_alerts
from tests.browsing import WAIT, open_page
from tests.servers import make_alert
from tests.test_browser_alerts import (
    alert_item,
    alerts_shown,
    filtered,
    log_in,
    my_alerts,
    sync_until,
)

three_alerts = test_browser_alerts.three_alerts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desktop(chromium, tmp_path):
    """A 1440×900 screen, the one the issue measured the alerts page on."""
    with open_page(chromium, tmp_path, viewport={"width": 1440, "height": 900}) as b:
        yield b


@pytest.fixture
def live_am(settings, alertmanager_025, redis_db, fresh_snapshot):
    settings.ALERTMANAGER_URLS = [alertmanager_025.url]
    settings.ALERTMANAGER_EXTERNAL_URL = alertmanager_025.url
    settings.ALERTS_REFRESH_SECONDS = 600  # no poll moves the page under the checks
    return alertmanager_025


def started(alert: dict, ago: timedelta) -> dict:
    when = datetime.now(UTC) - ago
    return {**alert, "startsAt": when.isoformat().replace("+00:00", "Z")}


def noise(tag: str, count: int = 300) -> list[dict]:
    """`count` alerts of a bad night: 50 rules of 6 instances each, one rule in ten critical,
    all started a while ago."""
    alerts = []
    for i in range(count):
        rule, instance = divmod(i, 6)
        severity = "critical" if rule % 10 == 0 else ("warning" if rule % 3 else "info")
        labels = {
            "alertname": f"Noise{rule}",
            "severity": severity,
            "instance": f"node{instance}:9100",
            "job": "node",
            "test": tag,
        }
        alert = make_alert(labels, {"summary": f"Noise {rule} on node{instance}"})
        alerts.append(started(alert, timedelta(minutes=30 + rule)))
    return alerts


def test_a_new_critical_is_on_the_first_screen_with_300_alerts_firing(
    desktop, live_server, live_am, silencer, tag
):
    b, page, base = desktop, desktop.page, live_server.url
    live_am.push_alerts(noise(tag))
    sync_until(lambda: len(my_alerts(tag)) == 300, "300 noise alerts in the snapshot")
    name = f"PaymentsDown{tag}"
    live_am.push_alerts(
        [make_alert({"alertname": name, "severity": "critical", "job": "pay", "test": tag})]
    )
    sync_until(lambda: len(my_alerts(tag)) == 301, "the new critical in the snapshot")

    log_in(b, base, "alice")  # lands on /alerts/, unfiltered: everything that fires
    item = alert_item(page, name)
    expect(item).to_have_count(1, timeout=WAIT)
    expect(item.locator("summary")).to_be_in_viewport(timeout=WAIT)
    assert page.evaluate("window.scrollY") == 0
    assert "page=" not in page.url
    b.shot("01-new-critical-first")
    assert b.unexpected_errors() == []


def sync_runs() -> int:
    from alertui.sync.models import SourceStatus

    return SourceStatus.objects.get(name="alertmanager-alerts default").runs


def row_of(page, text: str):
    """The whole row (details and what shows under them) of the alert whose summary has text."""
    return page.locator("#results .alert-row").filter(has=page.locator("summary", has_text=text))


def test_a_silenced_row_shows_who_and_time_left_and_extends_and_expires_in_place(
    desktop, live_server, silencer, three_alerts, tag
):
    b, page, base = desktop, desktop.page, live_server.url
    runs = sync_runs()
    log_in(b, base, "alice")
    here = filtered(tag) + "&state=active&state=silenced"
    page.goto(base + here)
    expect(alerts_shown(page)).to_have_count(3, timeout=WAIT)

    item = alert_item(page, "HighErrorRate")
    item.locator("summary").click()
    item.get_by_role("link", name="Silence", exact=True).click()
    page.get_by_label("Comment").fill(f"api redeploy {tag}")
    page.get_by_label("Comment").press("Control+Enter")

    # Back where the person was, the row says who, why and how long, before any sync.
    expect(page).to_have_url(base + here, timeout=WAIT)
    row = row_of(page, "HighErrorRate")
    muted = row.locator(".muted-by")
    expect(muted).to_contain_text("Silenced by alice", timeout=WAIT)
    expect(muted).to_contain_text(f"api redeploy {tag}")
    expect(muted.locator("time[data-until]")).to_have_text(re.compile(r"^(59m|1h)( \d+s)?"))
    expect(page.locator(".group", has=row).get_by_role("link", name="Silence group")).to_have_count(
        0
    )
    b.shot("01-silenced-row")

    muted.get_by_role("button", name="Extend +1h").click()
    expect(page).to_have_url(base + here, timeout=WAIT)
    expect(page.locator(".messages")).to_contain_text("Silence extended by 1h until", timeout=WAIT)
    expect(row_of(page, "HighErrorRate").locator("time[data-until]")).to_have_text(
        re.compile(r"^1h 5\dm|^2h"), timeout=WAIT
    )

    row_of(page, "HighErrorRate").get_by_role("link", name="Expire…").click()
    expect(page.locator(".notify-again")).to_contain_text("1 alert will notify again")
    page.get_by_role("button", name="Expire now").click()
    expect(page).to_have_url(base + here, timeout=WAIT)
    expect(row_of(page, "HighErrorRate").locator(".muted-by")).to_have_count(0, timeout=WAIT)
    expect(alert_item(page, "HighErrorRate")).not_to_have_class(re.compile(r"\bsilenced\b"))
    assert sync_runs() == runs, "a sync ran: this test is about what shows before one"
    assert b.unexpected_errors() == []


def test_a_label_chip_adds_itself_to_the_filter(desktop, live_server, silencer, three_alerts, tag):
    b, page, base = desktop, desktop.page, live_server.url
    log_in(b, base, "alice")
    page.goto(base + filtered(tag))
    expect(alerts_shown(page)).to_have_count(3, timeout=WAIT)
    item = alert_item(page, 'instance="b"')
    item.locator("summary").click()
    item.locator("a.chip", has_text='instance="b"').click()

    box = page.locator("#q")
    expect(box).to_have_value(f'test="{tag}" instance="b"', timeout=WAIT)
    expect(alerts_shown(page)).to_have_count(1, timeout=WAIT)
    expect(alert_item(page, 'instance="b"')).to_have_count(1)
    page.wait_for_url(lambda url: "instance" in url, timeout=WAIT)  # shareable, as typed
    b.shot("01-chip-filtered")
    assert b.unexpected_errors() == []


def test_j_and_k_move_between_alerts_and_question_mark_lists_the_keys(
    desktop, live_server, silencer, three_alerts, tag
):
    b, page, base = desktop, desktop.page, live_server.url
    log_in(b, base, "alice")
    page.goto(base + filtered(tag))
    expect(alerts_shown(page)).to_have_count(3, timeout=WAIT)
    summaries = page.locator("#results details.alert > summary")
    page.locator("h1").click()

    page.keyboard.press("j")
    expect(summaries.nth(0)).to_be_focused()
    expect(summaries.nth(0)).to_contain_text("HighErrorRate")  # the critical first
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(summaries.nth(2)).to_be_focused()
    page.keyboard.press("j")  # stays on the last
    expect(summaries.nth(2)).to_be_focused()
    page.keyboard.press("k")
    expect(summaries.nth(1)).to_be_focused()

    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    for key, what in [("j", "next / previous alert"), ("s", "silence the alert"), ("?", "help")]:
        expect(help_dialog.locator("dt", has_text=key).first).to_be_visible()
        expect(help_dialog).to_contain_text(what)
    b.shot("01-help")
    page.keyboard.press("j")  # the help is open: keys do nothing underneath
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    # While typing in a field, the letters are just letters.
    box = page.locator("#q")
    box.focus()
    box.press("End")
    page.keyboard.type(" jks?")
    expect(box).to_have_value(f'test="{tag}" jks?')
    expect(box).to_be_focused()
    assert "/silences/new/" not in page.url
    assert b.unexpected_errors() == []
