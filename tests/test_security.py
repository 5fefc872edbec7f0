"""Security: hostile data from Alertmanager renders inert and bounded, roles, CSRF, login rate
limiting, security headers, `check --deploy`, and /metrics.

Labels, annotations, silence comments and creators are written by anyone who can reach
Alertmanager (or Prometheus rules), so they are attacker-controlled: the hostile data here is
pushed to a real Alertmanager and synced, the way an attacker's data would arrive.
"""

import csv
import io
import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.http import QueryDict
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from alertui.alerts.sync import sync_alerts
from alertui.audit.models import AuditEvent
from alertui.integrations.alertmanager import AlertmanagerClient, SilenceRequest
from alertui.matchers import Matcher
from alertui.silences import services
from alertui.silences.models import Silence
from alertui.silences.services import Actor, SilenceValues
from alertui.silences.sync import sync_silences
from alertui.targets.sync import sync_targets
from tests.servers import AlertmanagerProcess, make_alert
from tests.test_failures import synced as synced_once

# Every test here reads the alert snapshot: never one cached by an earlier test.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"  # tests/conftest.py's users
HUGE = 200 * 1024
MAX_PAGE = 1024 * 1024


# -- hostile data, through a real Alertmanager ------------------------------------------------

SCRIPT = "<script>alert('xss-{}')</script>"
BREAKER = '" onmouseover="alert(\'xss-{}\')" x="'
IMG = "<img src=x onerror=alert('xss-{}')>"
ON_POSTGRESQL = "postgresql" in django_settings.DATABASES["default"]["ENGINE"]


def hostile(where: str) -> str:
    return SCRIPT.format(where) + BREAKER.format(where) + IMG.format(where) + "</code></td>"


HOSTILE_ALERT_LABELS = {
    "alertname": hostile("alertname"),
    "namespace": hostile("namespace"),  # a key label, shown on the alert's summary line
    "job": "javascript:alert('xss-job')",
    "instance": hostile("instance"),
    "severity": hostile("severity"),
    "extra": "{{ 7*7 }} {% now 'Y' %} ${7*7}",
}
HOSTILE_ANNOTATIONS = {
    "summary": hostile("summary"),
    "description": "</p>" + hostile("description"),
    "runbook_url": "javascript:alert('xss-runbook')",
    "dashboard": " JaVaScRiPt:alert('xss-dashboard')",
    "tab": "java\tscript:alert('xss-tab')",
    "data": "data:text/html,<script>alert('xss-data')</script>",
    "vbscript": "vbscript:msgbox('xss')",
    "quoted": "https://example.com/\" onmouseover=\"alert('xss-quoted')",
    "other": hostile("annotation"),
}


def huge_labels(instance: str) -> dict:
    return {
        "alertname": "HugeAlert",
        "instance": instance,
        "namespace": "n" * HUGE,
        "pod": "<b>" * (HUGE // 3),
        "blob": "x" * HUGE,
    }


HUGE_ANNOTATIONS = {
    "summary": "s" * HUGE,
    "description": "d\n" * (HUGE // 2),
    "runbook_url": "https://example.com/" + "r" * HUGE,
    "other": "o" * HUGE,
}


def post_silence(am, matchers, created_by, comment, hours=2) -> str:
    now = timezone.now()
    request = SilenceRequest(matchers, now, now + timedelta(hours=hours), created_by, comment)
    return AlertmanagerClient([am.url]).post_silence(request)


@pytest.fixture(scope="module")
def hostile_am(tmp_path_factory):
    """An Alertmanager of its own (its huge alerts must not slow down or confuse the tests
    sharing the session's Alertmanagers), holding hostile alerts and silences."""
    am = AlertmanagerProcess("0.25", tmp_path_factory.mktemp("hostile-am")).start()
    try:
        hostile_alert = make_alert({**HOSTILE_ALERT_LABELS, "test": "hostile"}, HOSTILE_ANNOTATIONS)
        hostile_alert["generatorURL"] = "javascript:alert('xss-generator')"
        am.push_alerts([hostile_alert])
        for instance in ("1", "2"):
            am.push_alerts(
                [make_alert({**huge_labels(instance), "test": "hostile"}, HUGE_ANNOTATIONS)]
            )
        am.silences = {
            "hostile": post_silence(
                am,
                (Matcher("test", "=", "hostile"), Matcher("instance", "=", hostile("matcher"))),
                hostile("createdBy"),
                hostile("comment") + "\njavascript:alert('xss-comment')",
            ),
            "huge": post_silence(
                am,
                (Matcher("test", "=", "hostile"), Matcher("blob", "=~", "x+|" + "y" * HUGE)),
                "huge-maker",
                "<i>" * (HUGE // 3),
            ),
            "formula": post_silence(
                am,
                (Matcher("test", "=", "hostile"), Matcher("alertname", "=", "=1+1")),
                "@SUM(1+1)*cmd|' /C calc'!A0",
                '=HYPERLINK("http://evil.example/","click me")',
            ),
            "formula2": post_silence(
                am,
                (Matcher("test", "=", "hostile"), Matcher("alertname", "=", "-2+3")),
                "+mallory",
                "\t=cmd|' /C calc'!A0",
            ),
        }
        # Expired twins: only an expired silence can be recreated.
        client = AlertmanagerClient([am.url])
        for name in ("hostile", "huge"):
            original = client.get_silence(am.silences[name])
            twin = SilenceRequest(
                original.matchers,
                original.starts_at,
                original.ends_at,
                original.created_by,
                original.comment,
            )
            am.silences[f"{name}-expired"] = client.post_silence(twin)
            client.expire_silence(am.silences[f"{name}-expired"])
        yield am
    finally:
        am.stop()


@pytest.fixture
def synced(hostile_am, settings, redis_db):
    settings.ALERTMANAGER_URLS = [hostile_am.url]
    settings.ALERTMANAGER_EXTERNAL_URL = hostile_am.url
    assert synced_once(sync_silences).error == ""
    assert synced_once(sync_alerts).error == ""
    from alertui.alerts.models import Alert

    alerts = {(a.alertname, a.labels["instance"]): a.fingerprint for a in Alert.objects.all()}
    assert len(alerts) == 3
    return {"silences": hostile_am.silences, "alerts": alerts}


def _hostile_pages(synced) -> dict[str, str]:
    ids, fps = synced["silences"], synced["alerts"]
    hostile_fp = fps[(HOSTILE_ALERT_LABELS["alertname"][:255], HOSTILE_ALERT_LABELS["instance"])]
    return {
        "alerts": "/alerts/?state=active&state=silenced&state=inhibited",
        "alerts-grouped-by-namespace": "/alerts/?group_by=namespace&state=active&state=silenced",
        "alerts-htmx": "/alerts/?state=active&state=silenced&htmx",
        "hostile-alert-history": f"/alerts/{hostile_fp}/history/",
        "huge-alert-history": f"/alerts/{fps[('HugeAlert', '1')]}/history/",
        "silences": "/silences/?state=all",
        "silence-hostile": f"/silences/{ids['hostile']}/",
        "silence-huge": f"/silences/{ids['huge']}/",
        "silence-edit-hostile": f"/silences/{ids['hostile']}/edit/",
        "silence-edit-huge": f"/silences/{ids['huge']}/edit/",
        "silence-expire-hostile": f"/silences/{ids['hostile']}/expire/",
        "silence-expire-huge": f"/silences/{ids['huge']}/expire/",
        "new-preview": '/silences/new/?filter=test="hostile"',
        "new-recreate-hostile": f"/silences/new/?from={ids['hostile-expired']}",
        "new-recreate-huge": f"/silences/new/?from={ids['huge-expired']}",
        "preview-partial": (
            "/silences/preview/?matcher_name=test&matcher_op==&matcher_value=hostile"
        ),
        "audit": "/audit/",
        "audit-silence-hostile": f"/audit/silence/{ids['hostile']}/",
        "audit-silence-huge": f"/audit/silence/{ids['huge']}/",
    }


class _Attributes(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


SAFE_URL = re.compile(r"^(?:/(?!/)|\?|#|https?://[^/\s])")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "hx-get", "hx-post", "xlink:href"}


def inert_problems(html: str) -> list[str]:
    """What in the page could run script or break out of the page's structure."""
    problems = []
    parser = _Attributes()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.tags:
        for name, value in attrs.items():
            if name.startswith("on"):
                problems.append(f"<{tag}> has an event handler attribute {name}={value!r:.80}")
            if name in URL_ATTRIBUTES and value is not None and not SAFE_URL.match(value):
                problems.append(f"<{tag} {name}={value[:80]!r}> is not an http(s) or local URL")
        if tag == "script" and not (attrs.get("src") or "").startswith("/static/"):
            problems.append(f"<script {attrs}> is not one of alertui's static scripts")
        if tag in ("img", "iframe", "object", "embed", "svg", "b", "i"):
            problems.append(f"<{tag}> from the data was rendered as markup")
    if re.search(r"href\s*=\s*[\"']?\s*javascript:", html, re.I):
        problems.append('href="javascript:..." in the page')
    if "<script>alert" in html:
        problems.append("an unescaped <script> from the data")
    if re.search(r"alert\('xss-[a-z]+'\)\" x=", html):
        problems.append("an unescaped attribute breaker")
    return problems


def _unbounded(page: str, reason: str):
    """A page that once grew without bound (the reason says how); now a regression test."""
    return pytest.param(page, marks=pytest.mark.regression)


SILENCE_LINKS = (
    "templates/alerts/_alert.html and alerts/list.html put every label, untruncated, into the "
    "'Silence' and 'Silence group' links (silence_query), and an http(s) annotation URL "
    "untruncated into its href"
)
PREVIEW_LABELS = (
    "the preview list (templates/silences/form.html#preview, silences/detail.html 'Alerts it "
    "matches') prints every label value untruncated, for up to 50 alerts"
)


@pytest.mark.parametrize(
    "page",
    [
        _unbounded("alerts", SILENCE_LINKS),
        _unbounded("alerts-grouped-by-namespace", SILENCE_LINKS),
        _unbounded("alerts-htmx", SILENCE_LINKS),
        "hostile-alert-history",
        "huge-alert-history",
        "silences",
        "silence-hostile",
        _unbounded("silence-huge", PREVIEW_LABELS),
        "silence-edit-hostile",
        _unbounded("silence-edit-huge", PREVIEW_LABELS),
        "silence-expire-hostile",
        "silence-expire-huge",
        _unbounded("new-preview", PREVIEW_LABELS),
        "new-recreate-hostile",
        _unbounded("new-recreate-huge", PREVIEW_LABELS),
        _unbounded("preview-partial", PREVIEW_LABELS),
        "audit",
        "audit-silence-hostile",
        "audit-silence-huge",
    ],
)
def test_hostile_data_renders_inert_and_bounded(page, synced, silencer_client):
    path = _hostile_pages(synced)[page]
    headers = {"HX-Request": "true"} if path.endswith("&htmx") else {}
    response = silencer_client.get(path, headers=headers)
    assert response.status_code == 200
    html = response.content.decode()
    assert inert_problems(html) == []
    if "hostile" in page or page in ("alerts", "silences", "audit", "new-preview"):
        assert "&lt;script&gt;alert(&#x27;xss-" in html  # shown, escaped, rather than dropped
    assert len(response.content) < MAX_PAGE, f"{page}: {len(response.content)} bytes"


def test_hostile_data_is_shown_escaped_where_expected(synced, silencer_client):
    ids = synced["silences"]
    detail = silencer_client.get(f"/silences/{ids['hostile']}/").content.decode()
    assert "&lt;script&gt;alert(&#x27;xss-createdBy&#x27;)&lt;/script&gt;" in detail
    assert "&lt;script&gt;alert(&#x27;xss-comment&#x27;)&lt;/script&gt;" in detail
    assert "&lt;script&gt;alert(&#x27;xss-matcher&#x27;)&lt;/script&gt;" in detail
    alerts = silencer_client.get("/alerts/?state=active&state=silenced").content.decode()
    assert "&lt;script&gt;alert(&#x27;xss-summary&#x27;)&lt;/script&gt;" in alerts
    assert "{{ 7*7 }} {% now &#x27;Y&#x27; %} ${7*7}" in alerts  # not evaluated
    # Only the http(s) annotation becomes a link; the others are text.
    assert "javascript:alert(&#x27;xss-runbook&#x27;)" in alerts
    assert 'href="https://example.com/&quot; onmouseover=&quot;alert' in alerts


def test_the_csv_export_neutralises_formulas_and_keeps_data_as_text(synced, viewer_client):
    response = viewer_client.get("/audit/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment")
    text = b"".join(response.streaming_content).decode()
    assert len(text.encode()) < MAX_PAGE
    csv.field_size_limit(10 * MAX_PAGE)  # the huge silence's matchers are one 200 KB cell
    header, *rows = list(csv.reader(io.StringIO(text)))
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    by_person = {row[header.index("person")]: row for row in rows}
    formula = by_person["'@SUM(1+1)*cmd|' /C calc'!A0"]
    assert formula[header.index("comment")] == '\'=HYPERLINK("http://evil.example/","click me")'
    assert by_person["'+mallory"][header.index("comment")] == "'\t=cmd|' /C calc'!A0"
    assert hostile("createdBy") in by_person  # CSV is not HTML: kept verbatim


# -- hostile silences that the database may not hold as they are -----------------------------


@pytest.fixture
def own_am(settings, redis_db, tmp_path):
    """A fresh Alertmanager 0.25, so the silences a test makes are the only ones synced."""
    with AlertmanagerProcess("0.25", tmp_path) as am:
        settings.ALERTMANAGER_URLS = [am.url]
        yield am


@pytest.mark.regression
def test_a_long_free_text_creator_does_not_stop_the_sync(own_am, viewer_client):
    long_id = post_silence(own_am, (Matcher("test", "=", "long"),), "c" * 300, "long creator")
    other_id = post_silence(own_am, (Matcher("test", "=", "other"),), "bob", "after it")
    result = synced_once(sync_silences)
    assert result.error == ""
    assert sorted(result.recorded) == sorted([f"created {long_id}", f"created {other_id}"])
    listing = viewer_client.get("/silences/").content.decode()
    assert "long creator" in listing and "after it" in listing


@pytest.mark.regression
def test_nul_characters_from_alertmanager_do_not_stop_the_syncs(own_am, viewer_client):
    silence_id = post_silence(
        own_am, (Matcher("test", "=", "nul\x00value"),), "bob\x00", "comment with \x00 NUL"
    )
    own_am.push_alerts([make_alert({"alertname": "NulAlert", "nul": "a\x00b"}, {"x": "\x00"})])
    assert synced_once(sync_silences).recorded == [f"created {silence_id}"]
    assert synced_once(sync_alerts).error == ""
    for path in ("/silences/", f"/silences/{silence_id}/", "/audit/", "/alerts/"):
        assert viewer_client.get(path).status_code == 200, path


@pytest.mark.regression
def test_lists_of_huge_silences_stay_bounded(own_am, viewer_client):
    for i in range(6):
        post_silence(
            own_am,
            (Matcher("test", "=", f"huge-{i}"), Matcher("blob", "=", "v" * HUGE)),
            f"maker-{i}-" + "c" * 200,
            "<u>" * (HUGE // 3),
        )
    assert len(synced_once(sync_silences).recorded) == 6
    for path in ("/silences/", "/audit/"):
        response = viewer_client.get(path)
        assert response.status_code == 200
        assert inert_problems(response.content.decode()) == []
        assert len(response.content) < MAX_PAGE, f"{path}: {len(response.content)} bytes"


# -- links built from what people type ---------------------------------------------------------


@pytest.mark.regression
@pytest.mark.handmade_rows
def test_the_silence_pager_keeps_the_search_it_pages_through(viewer_client):
    now = timezone.now()
    for i in range(55):
        Silence.objects.create(
            id=f"pager-{i:03d}",
            matchers=[["team", "=", "a&b"]],
            matchers_text='team="a&b"',
            starts_at=now,
            ends_at=now + timedelta(hours=1),
            comment="ticket #1",
            state="active",
        )
    html = viewer_client.get("/silences/", {"q": "a&b #1"}).content.decode()
    assert "55 silences" in html
    link = re.search(r'<a href="(\?[^"]+)">Older', html)
    assert link, "a link to the second page"
    # As a browser reads the link: entities decoded, the fragment (after #) not sent.
    params = QueryDict(urlsplit(unescape(link[1])).query)
    assert params.getlist("q") == ["a&b #1"] and params.getlist("page") == ["2"]


# -- roles -------------------------------------------------------------------------------------

SILENCE_ID = "0f0e0d0c-aaaa-bbbb-cccc-000000000001"


@pytest.fixture
def local_silence(db):
    now = timezone.now()
    return Silence.objects.create(
        id=SILENCE_ID,
        matchers=[["alertname", "=", "DiskFull"]],
        matchers_text='alertname="DiskFull"',
        starts_at=now,
        ends_at=now + timedelta(hours=1),
        created_by="bob",
        comment="disk swap",
        state="active",
    )


MUTATING = [
    ("get", "/silences/new/"),
    ("post", "/silences/new/"),
    ("get", f"/silences/{SILENCE_ID}/edit/"),
    ("post", f"/silences/{SILENCE_ID}/edit/"),
    ("post", f"/silences/{SILENCE_ID}/extend/"),
    ("get", f"/silences/{SILENCE_ID}/expire/"),
    ("post", f"/silences/{SILENCE_ID}/expire/"),
    ("post", f"/silences/{SILENCE_ID}/restore/"),  # the undo of an expire
]
FORM = {
    "matcher_name": "alertname",
    "matcher_op": "=",
    "matcher_value": "DiskFull",
    "duration": "2h",
    "comment": "c",
    "by": "1h",
}


@pytest.mark.parametrize("method, path", MUTATING)
def test_viewers_may_not_change_anything(method, path, viewer_client, local_silence, settings):
    settings.ALERTMANAGER_URLS = ["http://127.0.0.1:9"]  # never reached
    response = getattr(viewer_client, method)(path, FORM if method == "post" else None)
    assert response.status_code == 403
    assert "You cannot do that" in response.content.decode()
    assert not AuditEvent.objects.exists()


PRIVATE = [
    "/",
    "/alerts/",
    "/alerts/0123456789abcdef/history/",
    "/targets/",
    "/silences/",
    "/silences/new/",
    "/silences/preview/",
    f"/silences/{SILENCE_ID}/",
    f"/silences/{SILENCE_ID}/edit/",
    f"/silences/{SILENCE_ID}/expire/",
    "/audit/",
    "/audit/export.csv",
    f"/audit/silence/{SILENCE_ID}/",
]


@pytest.mark.parametrize("path", PRIVATE)
def test_anonymous_visitors_are_sent_to_the_login_page(path, client, local_silence):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize("path", [p for m, p in MUTATING if m == "post"])
def test_anonymous_posts_are_sent_to_the_login_page(path, client, local_silence):
    response = client.post(path, FORM)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert not AuditEvent.objects.exists()


def test_the_admin_needs_a_staff_login(client, viewer_client, db):
    anonymous = client.get("/admin/")
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert viewer_client.get("/admin/").status_code == 302  # not staff


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/accounts/login/"])
def test_public_endpoints_answer_without_login(path, client, redis_db):
    assert client.get(path).status_code == 200


# -- CSRF --------------------------------------------------------------------------------------


@pytest.fixture
def seeded(settings, alertmanager_025, redis_db, tag):
    """A silence in Alertmanager 0.25 and its mirror, for POSTs that really go through."""
    settings.ALERTMANAGER_URLS = [alertmanager_025.url]
    from django.contrib.auth.models import User

    owner = User.objects.create_user("seeder")
    now = timezone.now()
    values = SilenceValues(
        (Matcher("test", "=", tag),), now, now + timedelta(hours=2), f"csrf {tag}"
    )
    return services.create_silence(Actor(owner), values)


def csrf_posts(silence_id, tag) -> dict[str, tuple[str, dict]]:
    return {
        "new": ("/silences/new/", {**FORM, "matcher_name": "test", "matcher_value": tag}),
        "edit": (
            f"/silences/{silence_id}/edit/",
            {**FORM, "matcher_name": "test", "matcher_value": tag, "duration": ""},
        ),
        "extend": (f"/silences/{silence_id}/extend/", {"by": "1h"}),
        "expire": (f"/silences/{silence_id}/expire/", {}),
        "logout": ("/accounts/logout/", {}),
    }


@pytest.mark.parametrize("view", ["new", "edit", "extend", "expire", "logout"])
def test_every_post_needs_the_csrf_token(view, seeded, silencer, tag):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(silencer)
    page = browser.get("/silences/").content.decode()
    token = re.search(r"hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'", page)[1]
    path, data = csrf_posts(seeded.id, tag)[view]

    refused = browser.post(path, data, headers={"HX-Request": "true"})
    assert refused.status_code == 403
    assert "CSRF" in refused.content.decode()
    assert AuditEvent.objects.exclude(actor_name="seeder").count() == 0

    accepted = browser.post(path, data, headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert accepted.status_code in (200, 302, 400), accepted.status_code
    if view in ("new", "extend", "expire"):
        assert AuditEvent.objects.filter(actor_name="alice", outcome="succeeded").count() == 1


def test_the_login_form_needs_the_csrf_token(silencer):
    browser = Client(enforce_csrf_checks=True)
    refused = browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert refused.status_code == 403


# -- login rate limiting ---------------------------------------------------------------------


def login(browser, username, password, address="192.0.2.10"):
    return browser.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def test_repeated_failed_logins_lock_the_username_from_that_address(settings, silencer, viewer):
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5  # the documented default (LOGIN_FAILURE_LIMIT)
    browser = Client()
    for attempt in range(limit - 1):
        failed = login(browser, "alice", f"wrong {attempt}")
        assert failed.status_code == 200
        assert "did not match" in failed.content.decode()
    locking = login(browser, "alice", "wrong again")
    assert locking.status_code == 429
    assert "Too many failed logins" in locking.content.decode()

    refused = login(browser, "alice", PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed logins" in refused.content.decode()
    assert "_auth_user_id" not in browser.session
    assert browser.get("/silences/").status_code == 302

    # Another user from the same address, and alice from another address, still get in.
    other = Client()
    assert login(other, "victor", PASSWORD).status_code == 302
    assert other.get("/silences/").status_code == 200
    elsewhere = Client()
    assert login(elsewhere, "alice", PASSWORD, address="198.51.100.7").status_code == 302
    assert elsewhere.get("/silences/").status_code == 200


def test_a_successful_login_resets_the_failure_count(settings, silencer):
    browser = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(browser, "alice", "wrong")
    assert login(browser, "alice", PASSWORD).status_code == 302
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(Client(), "alice", "wrong").status_code == 200
    assert login(Client(), "alice", PASSWORD).status_code == 302


# -- security headers --------------------------------------------------------------------------

HTML_PAGES = [
    "/alerts/",
    "/alerts/0123456789abcdef/history/",  # a 404 page
    "/targets/",
    "/silences/",
    "/silences/new/",
    f"/silences/{SILENCE_ID}/",
    f"/silences/{SILENCE_ID}/edit/",
    f"/silences/{SILENCE_ID}/expire/",
    "/audit/",
    f"/audit/silence/{SILENCE_ID}/",
    "/admin/",
]


def assert_security_headers(response):
    policy = response["Content-Security-Policy"]
    directives = dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip()
    )
    assert directives["default-src"] == "'self'"
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    for fallback in ("script-src", "style-src"):
        assert directives.get(fallback, "'self'") == "'self'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", HTML_PAGES)
def test_every_html_page_sends_the_security_headers(path, admin_user, client, local_silence):
    client.force_login(admin_user)
    response = client.get(path)
    assert response.status_code in (200, 404), response.status_code
    assert response["Content-Type"].startswith("text/html")
    assert_security_headers(response)


def test_login_forbidden_and_lockout_pages_send_the_security_headers(
    settings, client, viewer_client, silencer
):
    assert_security_headers(client.get("/accounts/login/"))
    assert_security_headers(viewer_client.get("/silences/new/"))  # 403
    for _ in range(settings.AXES_FAILURE_LIMIT):
        locked = login(Client(), "alice", "wrong")
    assert locked.status_code == 429
    assert_security_headers(locked)


def test_session_cookie_is_httponly_and_secure_with_secure_cookies(settings, silencer):
    settings.SESSION_COOKIE_SECURE = True  # what SECURE_COOKIES=true (default) sets
    settings.CSRF_COOKIE_SECURE = True
    browser = Client()
    page = browser.get("/accounts/login/")
    assert page.cookies["csrftoken"]["secure"] is True
    response = login(browser, "alice", PASSWORD)
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["secure"] is True
    assert cookie["samesite"] == "Lax"


def test_secure_cookies_is_on_by_default_in_production():
    result = _settings_subprocess(
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY)"
    )
    assert result.stdout.split() == ["True", "True", "True"], result.stderr


# -- check --deploy --------------------------------------------------------------------------


def _production_env() -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SECURE_", "TRUSTED_HEADER", "DEBUG", "ALLOWED_HOSTS"))
        and k not in ("SECRET_KEY", "BEHIND_TLS_PROXY")
    }
    env.update(
        SECRET_KEY=secrets.token_urlsafe(60),
        DEBUG="false",
        ALLOWED_HOSTS="alertui.example.com",
        SECURE_SSL_REDIRECT="true",
        SECURE_HSTS_SECONDS="31536000",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
        SECURE_HSTS_PRELOAD="true",
        BEHIND_TLS_PROXY="true",
        DJANGO_SETTINGS_MODULE="alertui.settings",
    )
    return env


def _settings_subprocess(code: str):
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    # As a deployment does: static files collected first (else alertui.W001 warns).
    env = {**_production_env(), "STATIC_ROOT": str(tmp_path / "static")}
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert collected.returncode == 0, collected.stderr
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


# -- /metrics ----------------------------------------------------------------------------------


def scrape(client, **headers) -> dict:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_report_syncs_per_source_and_silence_actions(
    settings, alertmanager_025, prometheus_242, redis_db, silencer, client, tag
):
    settings.ALERTMANAGER_URLS = [alertmanager_025.url]
    settings.PROMETHEUS_URLS = [prometheus_242.url]
    synced_once(sync_silences)
    synced_once(sync_alerts)
    synced_once(sync_targets)
    before = scrape(client)
    sources = ["alertmanager-alerts", "alertmanager-silences", f"prometheus {prometheus_242.url}"]
    for source in sources:
        key = (("cluster", "default"), ("source", source))
        assert before[("alertui_sync_duration_seconds", key)] >= 0
        assert 0 <= before[("alertui_snapshot_age_seconds", key)] < 60
        assert before[("alertui_sync_errors_total", key)] == 0
        assert before[("alertui_sync_runs_total", key)] == 1
        assert before[("alertui_source_up", key)] == 1

    created_key = (
        "alertui_silence_actions_total",
        (("action", "created"), ("outcome", "succeeded"), ("source", "browser")),
    )
    now = timezone.now()
    values = SilenceValues((Matcher("test", "=", tag),), now, now + timedelta(hours=1), "metrics")
    services.create_silence(Actor(silencer), values)
    after = scrape(client)
    assert after[created_key] == before.get(created_key, 0) + 1

    settings.ALERTMANAGER_URLS = ["http://127.0.0.1:9"]
    synced_once(sync_silences)
    failing = scrape(client)
    key = (("cluster", "default"), ("source", "alertmanager-silences"))
    assert failing[("alertui_sync_errors_total", key)] == 1
    assert failing[("alertui_source_up", key)] == 0


def test_metrics_need_the_bearer_token_when_one_is_set(settings, client, db):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert (
        client.get("/metrics", headers={"Authorization": "s3cret-scrape-token"}).status_code == 401
    )
    assert scrape(client, Authorization="Bearer s3cret-scrape-token") is not None


def test_health_endpoints_reveal_nothing_private(client, redis_db):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready == {"database": "ok", "redis": "ok", "status": "ok"}
