"""The alerts page in a real browser: filter, group-by, silence from an alert, auto-refresh.

Same set-up as tests/browsing.py (Debian's Chromium through Playwright against
`live_server`, ORM calls allowed in this thread, a screenshot per main step in tmp_path). The
live server is pointed at the test Alertmanager 0.25, whose alerts are shared by the whole
session, so every page here is filtered by this test's own label test=<tag>, and the nav's
"N firing" is compared with the database rather than with a fixed number.

The pages poll every settings.ALERTS_REFRESH_SECONDS (2 here), so every check is an `expect`
that retries: a poll may swap #results at any moment.
"""

import re
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browsing import PASSWORD, WAIT, Browsing
from tests.servers import make_alert

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REFRESH_SECONDS = 2


def my_alerts(tag: str) -> list:
    from alertui.alerts.models import Alert

    return [a for a in Alert.objects.all() if a.labels.get("test") == tag]


def sync_until(check, what: str, timeout: float = 10) -> None:
    """Run sync_alerts() until check() holds: Alertmanager takes a moment to show a change.

    A skipped run (another one holds the Redis lock: a second test run on this machine shares
    the test Redis database) is tried again, like a run that did not see the change yet.
    """
    from alertui.alerts.sync import sync_alerts

    deadline = time.monotonic() + timeout
    while True:
        result = sync_alerts()
        assert not result.error, result
        if not result.skipped and check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not seen after {timeout:g}s of syncing: {what} (last: {result})")
        time.sleep(0.2)


def active_count() -> int:
    from alertui.alerts.models import Alert

    return Alert.objects.filter(is_silenced=False, is_inhibited=False).count()


@pytest.fixture
def three_alerts(settings, alertmanager_025, redis_db, fresh_snapshot, tag):
    """HighErrorRate (critical, job api) and DiskFull (warning, job node) on b and c.

    Returns {"HighErrorRate": fingerprint, "DiskFull b": fingerprint, "DiskFull c": ...}.
    """
    settings.ALERTMANAGER_URLS = [alertmanager_025.url]
    settings.ALERTMANAGER_EXTERNAL_URL = alertmanager_025.url
    settings.ALERTS_REFRESH_SECONDS = REFRESH_SECONDS

    def alert(name, severity, job, instance, summary):
        labels = {"alertname": name, "severity": severity, "job": job, "instance": instance}
        return make_alert({**labels, "test": tag}, {"summary": summary})

    alertmanager_025.push_alerts(
        [
            alert("HighErrorRate", "critical", "api", "a", "5xx above 5%"),
            alert("DiskFull", "warning", "node", "b", "/var is 95% full"),
            alert("DiskFull", "warning", "node", "c", "/var is 97% full"),
        ]
    )
    sync_until(lambda: len(my_alerts(tag)) == 3, f"3 alerts labelled test={tag}")
    found = {}
    for a in my_alerts(tag):
        key = (
            "HighErrorRate"
            if a.alertname == "HighErrorRate"
            else f"DiskFull {a.labels['instance']}"
        )
        found[key] = a.fingerprint
    assert sorted(found) == ["DiskFull b", "DiskFull c", "HighErrorRate"]
    return found


def log_in(b: Browsing, base: str, username: str, next_path: str = "/alerts/") -> None:
    """Log in through the form, landing on next_path (the home page's target may change)."""
    page = b.page
    page.goto(f"{base}/accounts/login/?" + urlencode({"next": next_path}))
    expect(page.get_by_role("heading", name="Log in to alertui")).to_be_visible(timeout=WAIT)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(base + next_path, timeout=WAIT)
    expect(page.locator(".topbar .who")).to_contain_text(username, timeout=WAIT)


def url_query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def firing(n: int) -> re.Pattern:
    """The nav's "N firing", not matching "1N firing"."""
    return re.compile(rf"(^|\D){n} firing\b")


def filtered(tag: str) -> str:
    return "/alerts/?" + urlencode({"q": f'test="{tag}"'})


def alerts_shown(page):
    return page.locator("#results details.alert")


def result_line(page):
    """ "N alerts in M groups.": one element even while a filter swap nests a second #results
    inside the first (see test_filtering_replaces_the_results_in_place)."""
    return page.locator("#results > p.muted")


def record_polls(page, event: str = "request") -> list[float]:
    """When each htmx request to /alerts/ (a poll, or a filter change) was seen: `event` is
    "request" for when it is sent, "requestfinished" for when its answer has arrived."""
    seen: list[float] = []

    def on(request):
        if urlsplit(request.url).path == "/alerts/" and request.headers.get("hx-request"):
            seen.append(time.monotonic())

    page.on(event, on)
    return seen


def wait_for_polls(page, polls: list[float], count: int, within: float) -> None:
    """Let the page run until `polls` holds `count` entries, for at most `within` seconds."""
    deadline = time.monotonic() + within
    while len(polls) < count and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert len(polls) >= count, f"{len(polls)} polls seen in {within:g}s, expected {count}"


def alert_item(page, text: str):
    """The alert (a <details>) whose one-line summary contains `text`."""
    return alerts_shown(page).filter(has=page.locator("summary", has_text=text))


def test_the_filter_box_filters_and_the_url_shares_it(
    browsing, live_server, silencer, three_alerts, tag
):
    b, page, base = browsing, browsing.page, live_server.url
    log_in(b, base, "alice")
    page.goto(base + filtered(tag))
    expect(alerts_shown(page)).to_have_count(3, timeout=WAIT)

    text = f'test="{tag}" severity="critical"'
    page.locator("#q").fill(text)
    page.wait_for_url(lambda url: url_query(url).get("q") == [text], timeout=WAIT)
    expect(alerts_shown(page)).to_have_count(1, timeout=WAIT)
    expect(alerts_shown(page)).to_contain_text("HighErrorRate", timeout=WAIT)
    expect(result_line(page)).to_have_text("1 alert in 1 group.", timeout=WAIT)
    b.shot("01-filtered")

    shared = page.url
    page.reload()
    expect(page.locator("#q")).to_have_value(text, timeout=WAIT)
    expect(alerts_shown(page)).to_have_count(1, timeout=WAIT)
    expect(alerts_shown(page)).to_contain_text("HighErrorRate", timeout=WAIT)

    # The link as someone else would open it: a fresh tab, not the history entry.
    other = page.context.new_page()
    try:
        other.goto(shared)
        expect(other.locator("#q")).to_have_value(text, timeout=WAIT)
        expect(alerts_shown(other)).to_have_count(1, timeout=WAIT)
        expect(alerts_shown(other)).to_contain_text("HighErrorRate", timeout=WAIT)
    finally:
        other.close()
    b.shot("02-reloaded")
    assert b.unexpected_errors() == []


def test_group_by_a_label(browsing, live_server, silencer, three_alerts, tag):
    b, page, base = browsing, browsing.page, live_server.url
    log_in(b, base, "alice")
    page.goto(base + filtered(tag))
    expect(page.locator("#results section.group")).to_have_count(2, timeout=WAIT)  # alertname

    page.get_by_label("Group by").fill("job")
    page.get_by_label("Group by").press("Enter")
    page.wait_for_url(lambda url: url_query(url).get("group_by") == ["job"], timeout=WAIT)
    groups = page.locator("#results section.group")
    expect(groups.locator("h2")).to_have_text(["api", "node"], timeout=WAIT)
    api = page.get_by_role("region", name="job api", exact=True)
    node = page.get_by_role("region", name="job node", exact=True)
    expect(api.locator(".group-head .counts")).to_have_text(
        re.compile(r"^\s*1 active\s+1 critical\s*$"), timeout=WAIT
    )
    expect(node.locator(".group-head .counts")).to_have_text(
        re.compile(r"^\s*2 active\s+2 warning\s*$"), timeout=WAIT
    )
    expect(api.locator("details.alert")).to_have_count(1, timeout=WAIT)
    expect(node.locator("details.alert")).to_have_count(2, timeout=WAIT)
    expect(result_line(page)).to_have_text("3 alerts in 2 groups.", timeout=WAIT)
    # The filter was kept while regrouping.
    assert url_query(page.url).get("q") == [f'test="{tag}"']
    b.shot("01-grouped-by-job")
    assert b.unexpected_errors() == []


def test_silence_an_alert_from_its_details(
    browsing, live_server, silencer, three_alerts, alertmanager_025, tag
):
    from alertui.alerts.models import Alert

    b, page, base = browsing, browsing.page, live_server.url
    log_in(b, base, "alice")
    page.goto(base + filtered(tag))

    item = alert_item(page, "HighErrorRate")
    expect(item).to_have_count(1, timeout=WAIT)
    item.locator("summary").click()
    expect(item).to_have_js_property("open", True, timeout=WAIT)
    b.shot("01-expanded")
    item.get_by_role("link", name="Silence", exact=True).click()

    # The form holds exactly the alert's labels, one "=" row each, sorted by name.
    expect(page.get_by_role("heading", name="New silence")).to_be_visible(timeout=WAIT)
    rows = page.locator("#matcher-rows .matcher-row")
    expected = [
        ("alertname", "HighErrorRate"),
        ("instance", "a"),
        ("job", "api"),
        ("severity", "critical"),
        ("test", tag),
    ]
    expect(rows).to_have_count(len(expected), timeout=WAIT)
    for i, (name, value) in enumerate(expected):
        row = rows.nth(i)
        expect(row.get_by_role("textbox", name="Label", exact=True)).to_have_value(name)
        expect(row.get_by_role("combobox", name="Operator", exact=True)).to_have_value("=")
        expect(row.get_by_role("textbox", name="Value", exact=True)).to_have_value(value)
    preview = page.get_by_role("region", name="Affected alerts")
    expect(preview).to_contain_text("1 current alert would be silenced", timeout=WAIT)
    expect(preview).to_contain_text("HighErrorRate", timeout=WAIT)
    page.get_by_label("Comment").fill(f"Browser test {tag}: silenced from the alerts page")
    b.shot("02-form")
    page.get_by_role("button", name="Create silence").click()
    # Back on the alerts page the person came from, told what happened.
    expect(page).to_have_url(base + filtered(tag), timeout=WAIT)
    expect(page.locator(".messages")).to_contain_text("Silenced 1 alert until", timeout=WAIT)
    from alertui.audit.models import AuditEvent

    silence_id = AuditEvent.objects.filter(action="created").latest("id").silence_id

    fingerprint = three_alerts["HighErrorRate"]
    sync_until(
        lambda: silence_id in Alert.objects.get(fingerprint=fingerprint).silenced_by,
        f"HighErrorRate silenced by {silence_id}",
    )

    # Gone from the default (active) view...
    page.goto(base + filtered(tag))
    expect(alerts_shown(page)).to_have_count(2, timeout=WAIT)
    expect(alert_item(page, "DiskFull")).to_have_count(2, timeout=WAIT)
    expect(alert_item(page, "HighErrorRate")).to_have_count(0, timeout=WAIT)
    b.shot("03-active-only")

    # ...and back, marked and linked to its silence, with "silenced" ticked.
    page.locator("#alert-filter input[name=state][value=silenced]").check()
    page.wait_for_url(lambda url: "silenced" in url_query(url).get("state", []), timeout=WAIT)
    item = alert_item(page, "HighErrorRate")
    expect(item).to_have_count(1, timeout=WAIT)
    expect(item).to_have_class(re.compile(r"\bsilenced\b"), timeout=WAIT)
    expect(item.locator("summary .badge")).to_have_text("silenced", timeout=WAIT)
    item.locator("summary").click()
    link = item.get_by_role("link", name=re.compile(r"^Silenced by "))
    expect(link).to_have_attribute("href", f"/silences/{silence_id}/", timeout=WAIT)
    expect(link).to_have_text(f"Silenced by {silence_id[:8]}…", timeout=WAIT)
    b.shot("04-silenced-shown")
    link.click()
    expect(page).to_have_url(f"{base}/silences/{silence_id}/", timeout=WAIT)
    assert b.unexpected_errors() == []


def test_the_page_refreshes_itself_and_keeps_what_was_open(
    browsing, live_server, silencer, three_alerts, alertmanager_025, tag
):
    b, page, base = browsing, browsing.page, live_server.url
    log_in(b, base, "alice")
    page.goto(base + filtered(tag))
    expect(alerts_shown(page)).to_have_count(3, timeout=WAIT)
    nav = page.locator("#nav-counts")
    firing_before = active_count()
    expect(nav).to_contain_text(firing(firing_before), timeout=WAIT)

    polls = record_polls(page, "requestfinished")
    page.evaluate("window.__sameDocument = 'still here'")
    disk_b = alert_item(page, 'instance="b"')
    disk_c = alert_item(page, 'instance="c"')
    disk_b.locator("summary").click()
    expect(disk_b).to_have_js_property("open", True, timeout=WAIT)

    alertmanager_025.push_alerts(
        [make_alert({"alertname": "NewOne", "test": tag, "severity": "info", "job": "api"})]
    )
    sync_until(lambda: len(my_alerts(tag)) == 4, "NewOne in the snapshot")
    assert active_count() == firing_before + 1

    expect(alert_item(page, "NewOne")).to_have_count(1, timeout=WAIT)
    expect(alerts_shown(page)).to_have_count(4, timeout=WAIT)
    expect(nav).to_contain_text(firing(firing_before + 1), timeout=WAIT)
    # The same document: no reload happened, the filter box and the open alert are as left.
    assert page.evaluate("window.__sameDocument") == "still here"
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert polls, "NewOne appeared without any htmx request to /alerts/"
    expect(page.locator("#q")).to_have_value(f'test="{tag}"')
    expect(disk_b).to_have_js_property("open", True, timeout=WAIT)
    expect(disk_c).to_have_js_property("open", False, timeout=WAIT)
    b.shot("01-refreshed")

    # One more poll after that, to be sure the open one survives repeated swaps.
    wait_for_polls(page, polls, len(polls) + 1, within=2 * REFRESH_SECONDS + 2)
    page.wait_for_timeout(300)  # let the swap settle
    expect(disk_b).to_have_js_property("open", True, timeout=WAIT)
    assert b.unexpected_errors() == []


def test_polling_pauses_while_the_tab_is_hidden(browsing, live_server, silencer, three_alerts, tag):
    b, page, base = browsing, browsing.page, live_server.url
    log_in(b, base, "alice")
    polls = record_polls(page, "request")
    page.goto(base + filtered(tag))
    expect(alerts_shown(page)).to_have_count(3, timeout=WAIT)
    wait_for_polls(page, polls, 1, within=2 * REFRESH_SECONDS + 2)  # polling while visible

    # Hidden, as when another tab is in front (headless Chromium never hides a page itself).
    page.evaluate(
        """() => {
          Object.defineProperty(document, "hidden", {configurable: true, get: () => true});
          Object.defineProperty(document, "visibilityState",
                                {configurable: true, get: () => "hidden"});
          document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    page.wait_for_timeout(500)  # a request already on its way may still land
    polls.clear()
    page.wait_for_timeout(int(2.5 * REFRESH_SECONDS * 1000))
    assert polls == [], f"{len(polls)} polls while hidden"

    # Visible again: one catch-up request at once, then polling as before.
    shown_at = time.monotonic()
    page.evaluate(
        """() => {
          delete document.hidden;
          delete document.visibilityState;
          document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    wait_for_polls(page, polls, 2, within=2 * REFRESH_SECONDS + 2)
    assert polls[0] - shown_at < 1, "no catch-up request when the tab came back"
    assert b.unexpected_errors() == []


def test_auto_refresh_can_be_paused_and_resumed(browsing, live_server, silencer, three_alerts, tag):
    b, page, base = browsing, browsing.page, live_server.url
    log_in(b, base, "alice")
    polls = record_polls(page, "request")
    page.goto(base + filtered(tag))
    expect(alerts_shown(page)).to_have_count(3, timeout=WAIT)
    toggle = page.get_by_role("button", name="Pause auto-refresh")
    expect(page.locator(".refresh-status")).to_have_text(f"Refreshes every {REFRESH_SECONDS} s.")
    wait_for_polls(page, polls, 1, within=2 * REFRESH_SECONDS + 2)

    toggle.click()
    resume = page.get_by_role("button", name="Resume auto-refresh")
    expect(resume).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".refresh-status")).to_have_text("Auto-refresh paused.")
    page.wait_for_timeout(500)  # a request already on its way may still land
    polls.clear()
    page.wait_for_timeout(int(2.5 * REFRESH_SECONDS * 1000))
    assert polls == [], f"{len(polls)} polls while paused"
    b.shot("01-paused")

    # Paused stays paused in this tab across a reload, as the person chose.
    page.reload()
    expect(page.get_by_role("button", name="Resume auto-refresh")).to_be_visible(timeout=WAIT)
    page.wait_for_timeout(500)
    polls.clear()
    page.wait_for_timeout(int(2.5 * REFRESH_SECONDS * 1000))
    assert polls == [], f"{len(polls)} polls after reloading a paused page"

    # Resumed: one request at once, then polling as before.
    resumed_at = time.monotonic()
    page.get_by_role("button", name="Resume auto-refresh").click()
    expect(page.get_by_role("button", name="Pause auto-refresh")).to_have_attribute(
        "aria-pressed", "false"
    )
    wait_for_polls(page, polls, 2, within=2 * REFRESH_SECONDS + 2)
    assert polls[0] - resumed_at < 1, "no refresh when resumed"
    assert b.unexpected_errors() == []


def test_slash_focuses_the_filter_box(browsing, live_server, silencer, three_alerts, tag):
    b, page, base = browsing, browsing.page, live_server.url
    log_in(b, base, "alice")
    page.goto(base + filtered(tag))
    box = page.locator("#q")
    expect(box).to_have_value(f'test="{tag}"', timeout=WAIT)
    page.locator("h1").click()  # focus on the page, not in a field
    expect(box).not_to_be_focused()

    page.keyboard.press("/")
    expect(box).to_be_focused(timeout=WAIT)
    expect(box).to_have_value(f'test="{tag}"')  # the "/" itself is not typed in
    # The text is selected, so typing replaces it.
    assert box.evaluate("el => [el.selectionStart, el.selectionEnd]") == [0, len(f'test="{tag}"')]

    # In another field "/" is just a character.
    group_by = page.get_by_label("Group by")
    group_by.fill("")
    group_by.press_sequentially("a/b")
    expect(group_by).to_have_value("a/b")
    expect(group_by).to_be_focused()
    assert b.unexpected_errors() == []


def test_filtering_replaces_the_results_in_place(
    browsing, live_server, silencer, three_alerts, settings, tag
):
    settings.ALERTS_REFRESH_SECONDS = 600  # no poll may repair the page during this test
    b, page, base = browsing, browsing.page, live_server.url
    log_in(b, base, "alice")
    page.goto(base + filtered(tag))
    expect(alerts_shown(page)).to_have_count(3, timeout=WAIT)
    text = f'test="{tag}" severity="critical"'
    with page.expect_response(lambda r: url_query(r.url).get("q") == [text]):
        page.locator("#q").fill(text)
    expect(alerts_shown(page)).to_have_count(1, timeout=WAIT)
    expect(page.locator("#results")).to_have_count(1, timeout=1000)


def test_a_poll_keeps_the_keyboard_focus(browsing, live_server, silencer, three_alerts, tag):
    b, page, base = browsing, browsing.page, live_server.url
    log_in(b, base, "alice")
    polls = record_polls(page, "requestfinished")
    page.goto(base + filtered(tag))
    item = alert_item(page, "HighErrorRate")
    expect(item).to_have_count(1, timeout=WAIT)
    item.locator("summary").focus()
    page.keyboard.press("Enter")  # open it from the keyboard
    expect(item).to_have_js_property("open", True, timeout=WAIT)
    history = item.get_by_role("link", name="History")
    history.focus()
    expect(history).to_be_focused()

    wait_for_polls(page, polls, len(polls) + 1, within=2 * REFRESH_SECONDS + 2)
    page.wait_for_timeout(500)  # swap and settle
    expect(item).to_have_js_property("open", True, timeout=WAIT)
    focused = page.evaluate("() => document.activeElement.outerHTML.slice(0, 80)")
    assert history.evaluate("el => el === document.activeElement"), f"focus is on {focused}"
