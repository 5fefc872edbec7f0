"""Every page through axe-core, in the light and the dark colour scheme.

axe-core comes from the PyPI package axe-playwright-python (its bundled axe.min.js, injected
into the page). A page fails on any violation of impact "serious" or "critical"; the assertion
message lists every violation found, minor ones included, with the offending nodes and, for
colour contrast, the colours and ratio axe measured.

The pages show realistic content: alerts of each severity and state (one silenced), their
history, failing targets and rules, silences active and expired, audit events of each kind.
Polling is slowed right down so no htmx swap changes the page while axe reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from django.utils import timezone
from playwright.sync_api import expect

from tests.browsing import WAIT
from tests.servers import make_alert
from tests.test_browser_alerts import log_in, my_alerts, sync_until

# Fixtures of the other browser tests, made available to this module's tests.

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FAILING_IMPACTS = ("serious", "critical")
PROMETHEUS_OK = "http://prometheus-a.test:9090"
PROMETHEUS_DOWN = "http://prometheus-b.test:9090"


# -- the data every page is shown with --------------------------------------------------------


@dataclass
class World:
    tag: str
    alerts: dict[str, str] = field(default_factory=dict)  # alertname -> fingerprint
    silence_id: str = ""  # active, silencing the alert "Silenced"
    expired_id: str = ""


def _alerts(am, tag: str) -> None:
    base = {"test": tag, "job": "api", "namespace": "shop"}
    am.push_alerts(
        [
            make_alert(
                {**base, "alertname": "HighErrorRate", "severity": "critical", "instance": "a"},
                {
                    "summary": "5xx above 5% for 10 minutes",
                    "description": "The api answers 7.2% of requests with a 5xx.\nSee the runbook.",
                    "runbook_url": "https://runbooks.test/high-error-rate",
                    "dashboard": "Grafana board 12",
                },
            ),
            make_alert(
                {**base, "alertname": "DiskFull", "severity": "warning", "instance": "b"},
                {"summary": "/var is 95% full"},
            ),
            make_alert(
                {**base, "alertname": "CertExpiring", "severity": "info", "instance": "c"},
                {"summary": "The certificate expires in 20 days"},
            ),
            make_alert({**base, "alertname": "NoSeverity", "instance": "d"}),
            make_alert(
                {**base, "alertname": "Silenced", "severity": "error", "instance": "e"},
                {"summary": "Muted while the api is redeployed"},
            ),
        ]
    )


def _targets() -> None:
    from alertui.sync import health as source_health
    from alertui.sync.models import SourceStatus
    from alertui.targets.models import FailingTarget, RuleFailure, ScrapePool

    now = timezone.now()
    for url in (PROMETHEUS_OK, PROMETHEUS_DOWN):
        source_health.Run(source_health.PROMETHEUS, "default", url).success()
    SourceStatus.objects.filter(url=PROMETHEUS_DOWN).update(
        last_attempt_at=now,
        last_success_at=now - timedelta(hours=1),
        failing_since=now - timedelta(minutes=50),
        last_error="connection refused",
    )
    ScrapePool.objects.create(source=PROMETHEUS_OK, name="node", up=3, failing=2)
    ScrapePool.objects.create(source=PROMETHEUS_OK, name="api", up=4, failing=0)
    ScrapePool.objects.create(source=PROMETHEUS_OK, name="kube-scheduler", up=0, failing=0)
    for instance, health, error in [
        ("db1:9100", "down", 'Get "http://db1:9100/metrics": context deadline exceeded'),
        ("db2:9100", "unknown", ""),
    ]:
        FailingTarget.objects.create(
            source=PROMETHEUS_OK,
            scrape_pool="node",
            scrape_url=f"http://{instance}/metrics",
            job="node",
            instance=instance,
            labels={"job": "node", "instance": instance, "env": "prod"},
            health=health,
            last_error=error,
            last_scrape=now - timedelta(seconds=20) if health == "down" else None,
            last_scrape_duration=10.0,
            failing_since=now - timedelta(minutes=12),
        )
    RuleFailure.objects.create(
        source=PROMETHEUS_OK,
        group="api.rules",
        file="/etc/prometheus/rules/api.yml",
        name="ApiLatencyHigh",
        type="alerting",
        query="histogram_quantile(0.99, rate(http_duration_seconds_bucket[5m])) > 1",
        error="found duplicate series for the match group",
        last_evaluation=now - timedelta(seconds=30),
    )


def _silences(world: World, user) -> None:
    from alertui.alerts.models import Alert
    from alertui.matchers import Matcher
    from alertui.silences import services

    actor = services.Actor(user=user, remote_addr="127.0.0.1")
    now = timezone.now()

    def values(name: str, comment: str) -> services.SilenceValues:
        return services.SilenceValues(
            matchers=(Matcher("test", "=", world.tag), Matcher("alertname", "=", name)),
            starts_at=now,
            ends_at=now + timedelta(hours=2),
            comment=comment,
        )

    world.silence_id = services.create_silence(
        actor, values("Silenced", "Redeploying the api, INC-4711")
    ).id
    world.expired_id = services.create_silence(actor, values("DiskFull", "Swap the disk")).id
    services.expire_silence(actor, world.expired_id)
    fingerprint = world.alerts["Silenced"]
    sync_until(
        lambda: world.silence_id in Alert.objects.get(fingerprint=fingerprint).silenced_by,
        "the alert Silenced silenced",
    )


def _more_history(world: World) -> None:
    """Audit events and alert history of the kinds the syncs write, beside the browser's."""
    from alertui.alerts.models import AlertHistory
    from alertui.audit.models import AuditEvent

    now = timezone.now()
    common = {
        "matchers": [["test", "=", world.tag], ["alertname", "=", "Silenced"]],
        "matchers_text": f'test="{world.tag}", alertname="Silenced"',
        "starts_at": now,
        "ends_at": now + timedelta(hours=2),
    }
    AuditEvent.objects.create(
        at=now - timedelta(minutes=5),
        action="extended",
        outcome="failed",
        error="Alertmanager refused: silence not found",
        source="browser",
        actor_name="alice",
        silence_id=world.silence_id,
        comment="longer please",
        **common,
    )
    AuditEvent.objects.create(
        at=now - timedelta(minutes=4),
        action="replaced",
        source="sync",
        actor_name="amtool-bot",
        silence_id=world.silence_id,
        previous_silence_id="0b5e9c1a-1111-2222-3333-444455556666",
        comment="made with amtool",
        note="Seen in Alertmanager; not made through alertui.",
        **common,
    )
    fingerprint = world.alerts["HighErrorRate"]
    AlertHistory.objects.create(
        fingerprint=fingerprint,
        alertname="HighErrorRate",
        labels={"alertname": "HighErrorRate", "test": world.tag},
        started_at=now - timedelta(days=1, hours=2),
        resolved_at=now - timedelta(days=1),
    )


@pytest.fixture
def world(settings, alertmanager_025, redis_db, fresh_snapshot, silencer, viewer, tag) -> World:
    settings.ALERTMANAGER_URLS = [alertmanager_025.url]
    settings.ALERTMANAGER_EXTERNAL_URL = alertmanager_025.url
    settings.PROMETHEUS_URLS = [PROMETHEUS_OK, PROMETHEUS_DOWN]
    settings.ALERTS_REFRESH_SECONDS = 3600  # no swap while axe reads the page
    w = World(tag)
    _alerts(alertmanager_025, tag)
    sync_until(lambda: len(my_alerts(tag)) == 5, f"5 alerts labelled test={tag}")
    w.alerts = {a.alertname: a.fingerprint for a in my_alerts(tag)}
    _silences(w, silencer)
    _more_history(w)
    return w


# -- the pages ------------------------------------------------------------------------------


def _open_alert(name: str) -> Callable:
    def action(page, w: World) -> None:
        item = page.locator(f'#results details[data-key="{w.alerts[name]}"]')
        item.locator("summary").click()
        expect(item).to_have_js_property("open", True, timeout=WAIT)
        expect(item.get_by_role("link", name="History")).to_be_visible(timeout=WAIT)

    return action


def _wrong_password(page, w: World) -> None:
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("did not match", timeout=WAIT)


def _submit_without_comment(page, w: World) -> None:
    page.get_by_role("button", name="Create silence").click()
    expect(page.locator("#silence-form")).to_contain_text("comment is required", timeout=WAIT)


def _targets_page(page, w: World) -> None:
    expect(page.locator("table.grid")).to_have_count(2, timeout=WAIT)  # targets, rules
    page.get_by_text("1 healthy job").click()  # open the <details> of healthy jobs
    expect(page.locator("details.pool")).to_have_js_property("open", True, timeout=WAIT)


def _create_token(page, w: World) -> None:
    page.get_by_label("Name").fill("deploy-pipeline")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("status")).to_contain_text("Copy it now", timeout=WAIT)


def _window() -> None:
    """A weekly maintenance window two hours on, so its silence is made and shown."""
    from django.contrib.auth.models import User

    from alertui.maintenance.schedule import Schedule
    from alertui.maintenance.services import WindowFields, create_window
    from alertui.matchers import Matcher
    from alertui.silences.recorder import Actor
    from tests.maintenance_helpers import soon

    start = soon(7200)
    fields = WindowFields(
        "Sunday backup",
        (Matcher("alertname", "=", "DiskFull"),),
        "Nightly backup, ticket OPS-1",
        Schedule(
            start.date(),
            start.time(),
            "UTC",
            timedelta(hours=2),
            "weekly",
            weekdays=(start.weekday(),),
        ),
    )
    create_window(Actor(User.objects.get(username="alice")), fields)


def _window_page(w: World) -> str:
    from alertui.maintenance.models import Window

    return f"/maintenance/{Window.objects.get().pk}/"


def _create_feed(page, w: World) -> None:
    page.get_by_role("button", name="New feed address for all windows").click()
    expect(page.get_by_role("status")).to_contain_text("shown only now", timeout=WAIT)


@dataclass(frozen=True)
class Page:
    name: str
    path: Callable[[World], str]
    user: str | None = "alice"  # None: logged out
    status: int = 200
    action: Callable | None = None
    console_errors: tuple[str, ...] = ()  # expected ones, e.g. Chromium's for an error status
    prepare: Callable[[], None] | None = None  # more data, for this page only


PAGES = [
    Page("login", lambda w: "/accounts/login/", user=None),
    Page("login-failed", lambda w: "/accounts/login/", user=None, action=_wrong_password),
    Page("alerts", lambda w: "/alerts/", action=_open_alert("HighErrorRate")),
    Page(
        "alerts-every-state",
        lambda w: (
            "/alerts/?"
            + urlencode(
                [("q", f'test="{w.tag}"'), ("group_by", "severity")]
                + [("state", s) for s in ("active", "silenced", "inhibited")]
            )
        ),
        action=_open_alert("Silenced"),
    ),
    Page("alerts-no-match", lambda w: "/alerts/?q=nothing-matches-this"),
    Page("alert-history", lambda w: f"/alerts/{w.alerts['HighErrorRate']}/history/"),
    # With one Prometheus failing, so the outage banners show (on every page of this case).
    Page("targets", lambda w: "/targets/", action=_targets_page, prepare=_targets),
    Page("silences", lambda w: "/silences/"),
    Page("silences-all", lambda w: "/silences/?state=all"),
    Page(
        "silence-new",
        lambda w: "/silences/new/?" + urlencode({"filter": f'test="{w.tag}", severity="critical"'}),
    ),
    Page(
        "silence-new-errors",
        lambda w: "/silences/new/?" + urlencode({"filter": f'test="{w.tag}"'}),
        action=_submit_without_comment,
        console_errors=("status of 400",),
    ),
    Page("silence-detail", lambda w: f"/silences/{w.silence_id}/"),
    Page("silence-detail-expired", lambda w: f"/silences/{w.expired_id}/"),
    Page("silence-expire", lambda w: f"/silences/{w.silence_id}/expire/"),
    Page("silence-edit", lambda w: f"/silences/{w.silence_id}/edit/"),
    Page("audit", lambda w: "/audit/"),
    Page("audit-silence", lambda w: f"/audit/silence/{w.silence_id}/"),
    Page("maintenance", lambda w: "/maintenance/", prepare=_window),
    Page("maintenance-new", lambda w: "/maintenance/new/"),
    Page("maintenance-detail", _window_page, prepare=_window),
    Page("maintenance-calendar", lambda w: "/maintenance/calendar/", action=_create_feed),
    Page("api-tokens", lambda w: "/account/tokens/"),
    Page("api-token-created", lambda w: "/account/tokens/", action=_create_token),
    Page(
        "403",
        lambda w: "/silences/new/",
        user="victor",
        status=403,
        console_errors=("status of 403",),
    ),
    Page(
        "404", lambda w: "/silences/no-such-silence/", status=404, console_errors=("status of 404",)
    ),
]

SCHEMES = ("light", "dark")
# Also on a phone (CSS pixels), where tables become cards and the top bar wraps: the pages
# whose layout is the global one's (base.html, alertui.css) or the audit's, targets' and
# tokens' own.
PHONE = {"width": 360, "height": 740}
ON_A_PHONE = (
    "login",
    "login-failed",
    "targets",
    "audit",
    "audit-silence",
    "api-tokens",
    "api-token-created",
    "403",
    "404",
)

# Pages known to fail, with the app bug reported for each: {(page, scheme): reason}.
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def _cases():
    for p in PAGES:
        for scheme in SCHEMES:
            marks = []
            if (p.name, scheme) in KNOWN_BUGS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[(p.name, scheme)]))
            yield pytest.param(p, scheme, None, id=f"{p.name}-{scheme}", marks=marks)
            if p.name in ON_A_PHONE:
                yield pytest.param(p, scheme, PHONE, id=f"{p.name}-{scheme}-phone", marks=marks)


# -- axe ------------------------------------------------------------------------------------


# axe's default rules (WCAG 2.0-2.2 A and AA, and best practices), plus one of its experimental
# ones: WCAG 2.5.3 "Label in Name" (level A), which voice control depends on.
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "rules": {"label-content-name-mismatch": {"enabled": True}},
}


def run_axe(page) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    return results["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} [{len(v['nodes'])} nodes]")
        for node in v["nodes"][:12]:
            target = " ".join(str(t) for t in node["target"])
            detail = ""
            for check in node.get("any", []) + node.get("all", []) + node.get("none", []):
                data = check.get("data")
                if isinstance(data, dict) and "contrastRatio" in data:
                    detail = (
                        f" fg {data.get('fgColor')} on bg {data.get('bgColor')}:"
                        f" {data.get('contrastRatio')}:1, needs {data.get('expectedContrastRatio')}"
                    )
                    break
            if not detail:
                detail = " " + " ".join((node.get("failureSummary") or "").split())[:200]
            lines.append(f"    {target}{detail}")
        if len(v["nodes"]) > 12:
            lines.append(f"    ... and {len(v['nodes']) - 12} more")
    return "\n".join(lines)


@pytest.mark.parametrize(("spec", "scheme", "viewport"), list(_cases()))
def test_page_has_no_serious_accessibility_violation(
    browsing, live_server, world, spec: Page, scheme: str, viewport: dict | None
):
    b, page, base = browsing, browsing.page, live_server.url
    if spec.prepare:
        spec.prepare()
    page.emulate_media(color_scheme=scheme)
    if viewport:
        page.set_viewport_size(viewport)
    if spec.user:
        log_in(b, base, spec.user)
    path = spec.path(world)
    response = page.goto(base + path)
    assert response is not None and response.status == spec.status, (path, response)
    expect(page.locator("h1")).to_be_visible(timeout=WAIT)
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (scheme == "dark")
    if spec.action:
        spec.action(page, world)
    page.wait_for_load_state("networkidle")
    b.shot(f"{spec.name}-{scheme}{'-phone' if viewport else ''}")

    violations = run_axe(page)
    print(f"\naxe on {path} ({scheme}): {len(violations)} violations\n{describe(violations)}")
    serious = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    assert not serious, (
        f"axe on {path} ({scheme}), after {spec.name}: "
        f"{len(serious)} serious or critical of {len(violations)} violations:\n"
        + describe(violations)
    )
    assert b.unexpected_errors(*spec.console_errors) == []
