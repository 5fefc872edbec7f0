"""The silence flow in a real browser: from the alerts page to a silence that shows at once,
by keyboard in few keys, and the silence pages on a phone.

Same set-up as tests/test_browser_alerts.py (Debian's Chromium through Playwright against
`live_server`, the shared Alertmanager 0.25, every page filtered by this test's test=<tag>).
No sync runs after the fixtures' own: what the pages show after a change comes from applying
it to the snapshot at once (alerts.local_changes), which each test checks by counting runs.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import test_browser_alerts
from tests.browsing import WAIT, open_page
from tests.test_browser_alerts import (
    active_count,
    alert_item,
    alerts_shown,
    filtered,
    firing,
    log_in,
)

three_alerts = test_browser_alerts.three_alerts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZONE = "America/New_York"
MAX_KEYS = 15


@pytest.fixture
def browsing(chromium, tmp_path):
    """A desktop browser in New York: messages must give times in the person's zone."""
    with open_page(
        chromium, tmp_path, viewport={"width": 1280, "height": 900}, timezone_id=ZONE
    ) as b:
        yield b


@pytest.fixture
def phone(chromium, tmp_path):
    screen = {"width": 360, "height": 740}
    with open_page(chromium, tmp_path, viewport=screen, timezone_id=ZONE, is_mobile=True) as b:
        yield b


def sync_runs() -> int:
    from alertui.sync.models import SourceStatus

    return SourceStatus.objects.get(name="alertmanager-alerts default").runs


def local_end(silence_id: str) -> str:
    """The silence's end as a New Yorker's message gives it."""
    from alertui.silences.models import Silence

    zone = ZoneInfo(ZONE)
    end = Silence.objects.get(pk=silence_id).ends_at.astimezone(zone)
    same_day = end.date() == timezone.now().astimezone(zone).date()
    return f"{end:%H:%M}" if same_day else f"{end:%Y-%m-%d %H:%M}"


def newest_silence_id() -> str:
    from alertui.audit.models import AuditEvent

    return AuditEvent.objects.filter(action="created").latest("id").silence_id


def test_a_silence_made_from_the_alerts_page_shows_there_at_once(
    browsing,
    live_server,
    silencer,
    three_alerts,
    tag,
):
    b, page, base = browsing, browsing.page, live_server.url
    runs = sync_runs()
    log_in(b, base, "alice")
    page.goto(base + filtered(tag))
    expect(alerts_shown(page)).to_have_count(3, timeout=WAIT)
    nav = page.locator("#nav-counts")
    before = active_count()
    expect(nav).to_contain_text(firing(before), timeout=WAIT)
    silenced_count = page.locator("#alert-filter label", has_text="silenced").locator(".count")
    silenced_before = int(silenced_count.inner_text())

    # The alerts page's Silence link, carrying the page to come back to.
    here = filtered(tag)
    query = urlencode({"alert": three_alerts["HighErrorRate"], "next": here})
    page.goto(f"{base}/silences/new/?{query}")
    comment = page.get_by_label("Comment")
    expect(comment).to_be_focused(timeout=WAIT)
    expect(page.locator(".submit-row")).to_contain_text("Affects 1 current alert", timeout=WAIT)
    comment.fill(f"Browser test {tag}: the api is being redeployed")
    b.shot("01-form")
    comment.press("Control+Enter")

    expect(page).to_have_url(base + here, timeout=WAIT)
    silence_id = newest_silence_id()
    expect(page.locator(".messages")).to_contain_text(
        f"Silenced 1 alert until {local_end(silence_id)} (HighErrorRate).", timeout=WAIT
    )
    expect(nav).to_contain_text(firing(before - 1), timeout=WAIT)
    expect(silenced_count).to_have_text(str(silenced_before + 1), timeout=WAIT)
    expect(alert_item(page, "HighErrorRate")).to_have_count(0, timeout=WAIT)
    expect(alerts_shown(page)).to_have_count(2, timeout=WAIT)
    b.shot("02-back-on-the-alerts-page")

    page.locator("#alert-filter input[name=state][value=silenced]").check()
    item = alert_item(page, "HighErrorRate")
    expect(item).to_have_class(re.compile(r"\bsilenced\b"), timeout=WAIT)
    item.locator("summary").click()
    link = item.get_by_role("link", name=re.compile(r"^Silenced by "))
    expect(link).to_have_attribute("href", f"/silences/{silence_id}/", timeout=WAIT)
    b.shot("03-silenced-row")

    page.goto(f"{base}/silences/?" + urlencode({"q": silence_id}))
    expect(page.locator("td[data-label=Alerts]")).to_have_text("1", timeout=WAIT)
    assert sync_runs() == runs, "a sync ran: this test is about what shows before one"
    assert b.unexpected_errors() == []


def test_from_the_filter_to_a_created_silence_in_at_most_15_keys(
    browsing,
    live_server,
    silencer,
    three_alerts,
    tag,
):
    """The path: `/` to the filter, type it, Esc to leave it, `j` to the first alert, `s` to
    silence it, type the comment (focused already), Ctrl+Enter. Letters typed into the filter
    and the comment are not counted."""
    b, page, base = browsing, browsing.page, live_server.url
    log_in(b, base, "alice")
    page.goto(base + "/alerts/")
    keys: list[str] = []

    def press(key: str) -> None:
        keys.append(key)
        assert len(keys) <= MAX_KEYS, f"more than {MAX_KEYS} keys: {keys}"
        page.keyboard.press(key)

    press("/")
    expect(page.locator("#q")).to_be_focused(timeout=WAIT)
    page.keyboard.type(f'test="{tag}" alertname="HighErrorRate"')
    expect(alerts_shown(page)).to_have_count(1, timeout=WAIT)
    # Leaving the filter fires its `change`, which reloads the results once more: let that
    # land before moving on, or the swap can take the focus from under the keys.
    with page.expect_response(lambda r: urlsplit(r.url).path == "/alerts/"):
        press("Escape")
    expect(page.locator("#q")).to_have_value(f'test="{tag}" alertname="HighErrorRate"')
    # A locator, not wait_for_function: polling a string predicate needs eval, which the
    # page's Content Security Policy refuses (it failed whenever htmx was still settling).
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)
    item = alert_item(page, "HighErrorRate")
    press("j")
    expect(item.locator("summary")).to_be_focused(timeout=WAIT)
    press("s")
    expect(page.get_by_role("heading", name="New silence")).to_be_visible(timeout=WAIT)
    expect(page.get_by_label("Comment")).to_be_focused(timeout=WAIT)
    page.keyboard.type(f"Keyboard test {tag}")
    press("Control+Enter")

    # Back on the alerts page, filtered as it was, the silence made.
    expect(page.locator(".messages")).to_contain_text("Silenced 1 alert until", timeout=WAIT)
    assert urlsplit(page.url).path == "/alerts/"
    expect(page.locator("#q")).to_have_value(f'test="{tag}" alertname="HighErrorRate"')
    print(f"\n{len(keys)} keys from the filter to a created silence: {' '.join(keys)}")
    assert len(keys) <= MAX_KEYS
    assert b.unexpected_errors() == []


def test_the_form_puts_the_comment_first_and_the_times_aside(
    browsing,
    live_server,
    silencer,
    three_alerts,
    tag,
):
    b, page, base = browsing, browsing.page, live_server.url
    log_in(b, base, "alice")

    # Nothing pre-filled, or an edit: the person starts with the matchers.
    page.goto(f"{base}/silences/new/")
    expect(page.get_by_label("Comment")).not_to_be_focused(timeout=WAIT)
    expired = _expired_silence(silencer, tag)
    page.goto(f"{base}/silences/{expired.id}/")
    page.get_by_role("link", name="Recreate").click()
    expect(page.get_by_role("heading", name="Recreate silence")).to_be_visible(timeout=WAIT)
    expect(page.get_by_label("Comment")).to_be_focused(timeout=WAIT)
    active = _expired_silence(silencer, tag, expire=False)
    page.goto(f"{base}/silences/{active.id}/edit/")
    expect(page.get_by_role("heading", name="Edit silence")).to_be_visible(timeout=WAIT)
    expect(page.get_by_label("Comment")).not_to_be_focused(timeout=WAIT)

    page.goto(f"{base}/silences/new/?" + urlencode({"filter": f'test="{tag}"'}))
    comment = page.get_by_label("Comment")
    expect(comment).to_be_focused(timeout=WAIT)
    custom = page.locator("details.custom-times")
    expect(custom).to_have_js_property("open", False)
    expect(page.get_by_label("End", exact=True)).to_be_hidden()
    # From the comment, one Tab reaches the button, and the count sits beside it.
    page.keyboard.press("Tab")
    create = page.get_by_role("button", name="Create silence")
    expect(create).to_be_focused(timeout=WAIT)
    count = page.locator(".submit-row #affected-count")
    expect(count).to_have_text("Affects 3 current alerts", timeout=WAIT)
    page.get_by_role("textbox", name="Value", exact=True).fill("no-such-value")
    expect(count).to_have_text("Affects 0 current alerts", timeout=WAIT)
    page.get_by_role("textbox", name="Value", exact=True).fill(tag)
    expect(count).to_have_text("Affects 3 current alerts", timeout=WAIT)

    # The custom times open on request; an error in them keeps them open.
    custom.locator("summary").click()
    end = page.get_by_label("End", exact=True)
    expect(end).to_be_visible(timeout=WAIT)
    end.fill("2001-01-01T00:00")
    page.get_by_label("Duration", exact=True).fill("")
    comment.fill(f"Browser test {tag}")
    # Ctrl+Enter from a matcher's value field submits as well.
    page.get_by_role("textbox", name="Value", exact=True).press("Control+Enter")
    expect(page.locator("#silence-form")).to_contain_text(
        "The end must be after the start", timeout=WAIT
    )
    expect(page.locator("details.custom-times")).to_have_js_property("open", True, timeout=WAIT)
    b.shot("01-end-in-the-past")
    # The 400 for the refused form is logged by Chromium as a failed resource load.
    assert b.unexpected_errors("status of 400") == []


def _expired_silence(user, tag: str, expire: bool = True):
    from alertui.matchers import Matcher
    from alertui.silences import services

    now = timezone.now()
    matchers = (Matcher("test", "=", tag), Matcher("alertname", "=", "DiskFull"))
    values = services.SilenceValues(matchers, now, now + timedelta(hours=1), "disk swap")
    silence = services.create_silence(services.Actor(user=user), values)
    return services.expire_silence(services.Actor(user=user), silence.id) if expire else silence


def _overflowing(page) -> list[str]:
    """Elements of the page's main content that reach past the right edge of the screen."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const main = document.querySelector("main");
          const out = [];
          if (main.scrollWidth > main.clientWidth + 1) out.push("main scrolls sideways");
          for (const el of main.querySelectorAll("*")) {
            const box = el.getBoundingClientRect();
            if (box.width && box.right > width + 1) {
              out.push(el.tagName.toLowerCase() + "." + el.className + " right=" + box.right);
            }
          }
          return out.slice(0, 10);
        }"""
    )


def test_the_silence_pages_fit_a_phone(phone, live_server, silencer, three_alerts, tag):
    from alertui.matchers import Matcher
    from alertui.silences import services

    b, page, base = phone, phone.page, live_server.url
    now = timezone.now()
    matchers = (
        Matcher("test", "=", tag),
        Matcher("alertname", "=~", "HighErrorRate|DiskFull"),
        Matcher("namespace", "!=", "a-long-label-value-without-spaces-" * 4),
    )
    comment = "Deploying the api; see https://tickets.test/" + "x" * 80
    values = services.SilenceValues(matchers, now, now + timedelta(hours=2), comment)
    silence = services.create_silence(services.Actor(user=silencer), values)
    log_in(b, base, "alice")
    pages = {
        "list": "/silences/?" + urlencode({"q": tag}),
        "detail": f"/silences/{silence.id}/?" + urlencode({"next": filtered(tag)}),
        "new": "/silences/new/?" + urlencode({"alert": three_alerts["HighErrorRate"]}),
        "edit": f"/silences/{silence.id}/edit/",
        "expire": f"/silences/{silence.id}/expire/",
    }
    for name, path in pages.items():
        page.goto(base + path)
        expect(page.locator("h1")).to_be_visible(timeout=WAIT)
        if name == "new":
            page.locator("details.custom-times summary").click()
        b.shot(f"phone-{name}")
        assert _overflowing(page) == [], name
    assert b.unexpected_errors() == []
