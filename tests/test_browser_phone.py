"""Every page on a phone (360 × 740 CSS pixels): nothing is wider than the screen.

The pages show the data of tests/test_accessibility.py (alerts of each severity and state,
silences active and expired, failing targets and rules, audit events of each kind) plus long
values as Alertmanager, Prometheus and people deliver them: label values, matcher values and a
comment without a single space, markup in comments and annotations, a failing target's long URL
and error, a long user name in the top bar, a long token name. A page passes when the document
is no wider than the viewport: `document.documentElement.scrollWidth <= window.innerWidth`, i.e.
no horizontal scrolling, and every table of more than three columns is shown as cards (a table
squeezed to fit the screen, a letter a line, would pass the first check and help nobody).

The viewport is not a mobile one (is_mobile off): a mobile viewport zooms out to fit a page
that is too wide, which would make window.innerWidth grow with the page and hide the fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import test_accessibility
from tests.browsing import PASSWORD, WAIT, open_page
from tests.servers import make_alert
from tests.test_accessibility import World
from tests.test_browser_alerts import my_alerts, sync_until

world = test_accessibility.world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
# A long name as an SSO proxy passes it (TRUSTED_HEADER): an e-mail address, 150 at most.
LONG_USER = "sre-oncall-primary.europe-west1.platform-infrastructure@example-corporation.com"
UNBROKEN = "checkout-payments-gateway-" + "x" * 180  # no space anywhere to break at
# Markup as an attacker writes it into a comment or an annotation: shown as text, and as long.
MARKUP = "<table><tr><td>" + "<b>" * 40 + "</td></tr></table><script>alert(1)</script>"
LONG_URL = "https://runbooks.example.com/" + "/".join(["kubernetes-workloads"] * 12)


def _long_values(w: World, am) -> dict[str, str]:
    """Long values everywhere a page shows data; returns ids of what it made."""
    from django.contrib.auth.models import User

    from alertui.api.models import ApiToken
    from alertui.audit.models import AuditEvent
    from alertui.matchers import Matcher
    from alertui.silences import services
    from alertui.targets.models import FailingTarget, RuleFailure

    labels = {
        "test": w.tag,
        "alertname": "KubePodCrashLooping",
        "severity": "critical",
        "namespace": UNBROKEN,
        "pod": UNBROKEN + "-7d9f8b6c5d-q2x7z",
        "container": "payments",
    }
    am.push_alerts(
        [
            make_alert(
                labels,
                {
                    "summary": f"Pod {UNBROKEN} is restarting {UNBROKEN}",
                    "description": LONG_URL + " " + UNBROKEN + MARKUP,
                    "runbook_url": LONG_URL,
                },
            )
        ]
    )
    sync_until(lambda: len(my_alerts(w.tag)) == 6, f"6 alerts labelled test={w.tag}")
    w.alerts = {a.alertname: a.fingerprint for a in my_alerts(w.tag)}

    user = User.objects.get(username=LONG_USER)
    actor = services.Actor(user=user, remote_addr="2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")
    now = timezone.now()
    long_silence = services.create_silence(
        actor,
        services.SilenceValues(
            matchers=(
                Matcher("test", "=", w.tag),
                Matcher("namespace", "=~", UNBROKEN + "|" + UNBROKEN),
            ),
            starts_at=now,
            ends_at=now + timedelta(days=3),
            comment=LONG_URL + " " + UNBROKEN + MARKUP,
        ),
    ).id
    AuditEvent.objects.create(
        action="edited",
        outcome="failed",
        error="Alertmanager refused: " + UNBROKEN,
        source="sync",
        actor_name="x" * 255,
        silence_id=long_silence,
        matchers=[["namespace", "=~", UNBROKEN]],
        matchers_text=f'namespace=~"{UNBROKEN}"',
        comment=UNBROKEN + MARKUP,
        note=LONG_URL,
    )
    FailingTarget.objects.create(
        source=test_accessibility.PROMETHEUS_OK,
        scrape_pool="node",
        scrape_url=f"https://{UNBROKEN}.svc.cluster.local:9100/metrics?module=" + UNBROKEN,
        job="node",
        instance=f"{UNBROKEN}:9100",
        labels={"job": "node", "instance": f"{UNBROKEN}:9100", "pod": UNBROKEN},
        health="down",
        last_error=f'Get "https://{UNBROKEN}/metrics": dial tcp: lookup {UNBROKEN}: no such host',
        last_scrape=now,
        last_scrape_duration=0.002,
        failing_since=now - timedelta(hours=3),
    )
    RuleFailure.objects.create(
        source=test_accessibility.PROMETHEUS_OK,
        group=UNBROKEN,
        file="/etc/prometheus/rules/" + UNBROKEN + ".yml",
        name="KubePodCrashLoopingFor" + "X" * 80,
        type="alerting",
        query="max_over_time(kube_pod_container_status_waiting_reason{" + UNBROKEN + "}[5m])",
        error="many-to-many matching not allowed: " + UNBROKEN,
        last_evaluation=now,
    )
    ApiToken.objects.create(user, expiry=timedelta(days=30), name="deploy-" + "y" * 90)
    return {"long_silence": long_silence, "window": _long_window(actor, w.tag).pk}


def _long_window(actor, tag: str):
    """A weekly maintenance window two hours on (so its silence is made and listed)."""
    from alertui.maintenance.schedule import Schedule
    from alertui.maintenance.services import WindowFields, create_window
    from alertui.matchers import Matcher
    from tests.maintenance_helpers import soon

    start = soon(7200)
    schedule = Schedule(
        start.date(), start.time(), "UTC", timedelta(hours=2), "weekly", weekdays=(start.weekday(),)
    )
    matchers = (Matcher("test", "=", tag), Matcher("namespace", "=~", UNBROKEN))
    return create_window(actor, WindowFields(UNBROKEN[:100], matchers, UNBROKEN + MARKUP, schedule))


@pytest.fixture
def phone_world(world, alertmanager_025, settings):
    from tests.conftest import _user

    settings.PROMETHEUS_URLS = [
        test_accessibility.PROMETHEUS_OK,
        test_accessibility.PROMETHEUS_DOWN,
    ]
    test_accessibility._targets()
    user = _user(LONG_USER, "silencer")
    world.extra = _long_values(world, alertmanager_025)
    world.user = user
    return world


@pytest.fixture
def phone(chromium, tmp_path):
    with open_page(chromium, tmp_path, viewport=PHONE, is_mobile=False) as b:
        yield b.page


def log_in(page, base: str) -> None:
    page.goto(f"{base}/accounts/login/?" + urlencode({"next": "/silences/"}))
    page.get_by_label("Username").fill(LONG_USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(base + "/silences/", timeout=WAIT)


@dataclass(frozen=True)
class Phone:
    name: str
    path: object  # World -> str
    logged_in: bool = True
    status: int = 200


PAGES = [
    Phone("login", lambda w: "/accounts/login/", logged_in=False),
    Phone("alerts", lambda w: "/alerts/?state=active&state=silenced&state=inhibited"),
    Phone("alerts-by-namespace", lambda w: "/alerts/?group_by=namespace"),
    Phone("alert-history", lambda w: f"/alerts/{w.alerts['KubePodCrashLooping']}/history/"),
    Phone("targets", lambda w: "/targets/"),
    Phone("silences", lambda w: "/silences/?state=all"),
    Phone("silence-detail", lambda w: f"/silences/{w.extra['long_silence']}/"),
    Phone("silence-new", lambda w: "/silences/new/?" + urlencode({"filter": f'test="{w.tag}"'})),
    Phone("silence-edit", lambda w: f"/silences/{w.extra['long_silence']}/edit/"),
    Phone("silence-expire", lambda w: f"/silences/{w.extra['long_silence']}/expire/"),
    Phone("audit", lambda w: "/audit/"),
    Phone("audit-silence", lambda w: f"/audit/silence/{w.extra['long_silence']}/"),
    Phone("maintenance", lambda w: "/maintenance/"),
    Phone("maintenance-window", lambda w: f"/maintenance/{w.extra['window']}/"),
    Phone("maintenance-new", lambda w: "/maintenance/new/"),
    Phone("api-tokens", lambda w: "/account/tokens/"),
    Phone("404", lambda w: "/silences/no-such-silence/", status=404),
]


def _cases():
    for p in PAGES:
        yield pytest.param(p, id=p.name)


# What sticks out past the right edge: the deepest elements wider than the screen, for the
# failure message (a selector-like path and the element's right edge).
WIDE_ELEMENTS = """() => {
  const limit = window.innerWidth;
  const path = el => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
      parts.unshift(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
        + (e.classList.length ? '.' + [...e.classList].join('.') : ''));
    }
    return parts.join(' > ');
  };
  return [...document.body.querySelectorAll('*')]
    .filter(el => el.getBoundingClientRect().right > limit + 0.5)
    .filter(el => ![...el.children].some(c => c.getBoundingClientRect().right > limit + 0.5))
    .slice(0, 8)
    .map(el => path(el) + ' right=' + Math.round(el.getBoundingClientRect().right));
}"""


TABLES_NOT_CARDS = """() => [...document.querySelectorAll('main table')]
  .filter(t => t.querySelectorAll('thead th').length > 3)
  .filter(t => [...t.querySelectorAll('tbody tr')]
    .some(r => getComputedStyle(r).display !== 'block'))
  .map(t => 'table.' + [...t.classList].join('.') + ' with columns: '
    + [...t.querySelectorAll('thead th')].map(th => th.textContent.trim()).join(', '))"""


@pytest.mark.parametrize("spec", list(_cases()))
def test_no_page_is_wider_than_a_phone(phone, live_server, phone_world, spec: Phone, tmp_path):
    page, base = phone, live_server.url
    if spec.logged_in:
        log_in(page, base)
    path = spec.path(phone_world)
    response = page.goto(base + path)
    assert response is not None and response.status == spec.status, (path, response)
    expect(page.locator("h1")).to_be_visible(timeout=WAIT)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(tmp_path / f"{spec.name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert viewport == PHONE["width"]
    assert width <= viewport, (
        f"{path} is {width}px wide on a {viewport}px screen; sticking out: "
        + "; ".join(page.evaluate(WIDE_ELEMENTS))
    )
    # A wide table squeezed into the screen is as unreadable as one that sticks out (a letter
    # a line): a table of more than three columns is shown as cards (.grid.cards).
    squeezed = page.evaluate(TABLES_NOT_CARDS)
    assert squeezed == [], f"{path}: tables still laid out as tables on a phone: {squeezed}"
