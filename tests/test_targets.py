"""Failing scrape targets, scrape pools and failing rules: synced from real Prometheus 2.42, 2.53
and 3.5 (tests.servers.PrometheusProcess) and shown on /targets/, in the nav and in /metrics.

The `prometheus` fixtures are settled: "prometheus" is up, "broken" is down (connection
refused), "hanging" has never finished a scrape (unknown), "no-endpoints" has no target, and
BrokenRule fails at every evaluation. Tests that stop a Prometheus, or need a target that comes
back, start a PrometheusProcess of their own. The target that recovers is a small HTTP server
serving metrics text, as any exporter does: a real scrape target, not a stand-in for Prometheus.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from alertui.alerts.sync import sync_alerts
from alertui.matchers import Matcher, parse_matchers
from alertui.sync import health, tasks
from alertui.sync.models import SourceStatus
from alertui.targets.models import FailingTarget, RuleFailure, ScrapePool, TargetHistory
from alertui.targets.sync import sync_targets
from tests.servers import (
    GO_ZERO_TIME,
    HTTP_TIMEOUT,
    PrometheusProcess,
    free_port,
    wait_until,
)

pytestmark = pytest.mark.django_db

FEED_TIMEOUT = 30  # seconds for Prometheus's alerts to show up in Alertmanager
TARGET_TIMEOUT = 30  # seconds for Prometheus to see a target go down or come back
LOCK_TIMEOUT = 30  # seconds to wait for a sync lock held by another run


# -- helpers ---------------------------------------------------------------------------------


class _Links(HTMLParser):
    """Every <a>: its href (entities decoded) and its text."""

    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._open: list[list] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._open.append([dict(attrs).get("href") or "", ""])

    def handle_data(self, data):
        for link in self._open:
            link[1] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._open:
            href, text = self._open.pop()
            self.links.append((href, " ".join(text.split())))


def links(html: str) -> dict[str, str]:
    """{link text: href} of a piece of HTML."""
    parser = _Links()
    parser.feed(html)
    parser.close()
    return {text: href for href, text in parser.links}


def page(client, path: str, **params) -> str:
    response = client.get(path, params)
    assert response.status_code == 200, f"GET {path}: {response.status_code}"
    return response.content.decode()


def text_of(html: str) -> str:
    """The page's text with tags dropped and white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def row_of(html: str, scrape_url: str) -> str:
    """The table row of a failing target, found by its scrape URL."""
    marker = f"<code>{scrape_url}</code>"
    assert marker in html, f"{scrape_url} is not on the page"
    return html.split(marker, 1)[1].split("</tr>", 1)[0]


def section(html: str, heading: str, end: str) -> str:
    assert heading in html, f"no {heading!r} on the page"
    return html.split(heading, 1)[1].split(end, 1)[0]


def unskipped(sync):
    """sync()'s result, retried while another run holds its Redis lock (other test sessions
    on the same machine share the test Redis database)."""
    return wait_until(
        lambda: (result := sync()) and not result.skipped and result,
        LOCK_TIMEOUT,
        f"{sync.__name__} to get its lock",
        interval=0.5,
    )


def sync_from(settings, *urls: str):
    settings.PROMETHEUS_URLS = list(urls)
    return unskipped(sync_targets)


def recent(value: datetime | None) -> bool:
    return (
        value is not None
        and value.tzinfo is not None
        and abs(datetime.now(UTC) - value) < timedelta(minutes=2)
    )


def raw_target(prom: PrometheusProcess, pool: str) -> dict | None:
    found = [t for t in prom.raw_targets()["activeTargets"] if t["scrapePool"] == pool]
    return found[0] if found else None


def metrics(client) -> dict[tuple[str, tuple], float]:
    """/metrics as {(sample name, sorted labels): value}."""
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.content.decode())
        for s in family.samples
    }


def source_up(samples, url: str) -> float:
    return samples[("alertui_source_up", (("cluster", "default"), ("source", f"prometheus {url}")))]


class _MetricsHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the name http.server calls
        body = b"up_test 1\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass


class _Exporter(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True


@contextmanager
def exporter(port: int) -> Iterator[ThreadingHTTPServer]:
    """A tiny exporter serving metrics text on 127.0.0.1:`port` while the block runs."""
    server = _Exporter(("127.0.0.1", port), _MetricsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def own_prometheus(tmp_path):
    """A settled Prometheus 2.42 of the test's own, which it may stop."""
    prom = PrometheusProcess("2.42", tmp_path / "prom").start()
    try:
        prom.wait_settled()
        yield prom
    finally:
        prom.stop()


# -- what a sync stores ----------------------------------------------------------------------


def test_it_stores_failing_targets_pools_and_rules(prometheus, settings, redis_db):
    result = sync_from(settings, prometheus.url)

    assert result.errors == [] and not result.skipped
    assert result.failing == 2 and result.went_down == 2
    broken = FailingTarget.objects.get(source=prometheus.url, job="broken")
    assert broken.health == "down"
    assert "connection refused" in broken.last_error
    assert broken.scrape_pool == "broken"
    assert broken.scrape_url == f"http://{prometheus.broken_target}/metrics"
    assert broken.instance == prometheus.broken_target
    assert broken.labels == {"job": "broken", "instance": prometheus.broken_target}
    assert recent(broken.last_scrape)
    assert recent(broken.failing_since)

    hanging = FailingTarget.objects.get(source=prometheus.url, job="hanging")
    assert hanging.health == "unknown"
    assert hanging.last_scrape is None
    assert hanging.instance == prometheus.hanging_target

    pools = {p.name: p for p in ScrapePool.objects.filter(source=prometheus.url)}
    assert pools["no-endpoints"].total == 0
    assert pools["prometheus"].up >= 1 and pools["prometheus"].failing == 0
    assert (pools["broken"].up, pools["broken"].failing) == (0, 1)
    assert (pools["hanging"].up, pools["hanging"].failing) == (0, 1)

    [rule] = RuleFailure.objects.filter(source=prometheus.url)
    raw = {r["name"]: r for g in prometheus.raw_rules()["groups"] for r in g["rules"]}
    assert rule.name == "BrokenRule" and rule.type == "alerting"
    assert rule.group == "alertui-test"
    assert "many-to-many matching not allowed" in rule.error
    assert rule.error == raw["BrokenRule"]["lastError"]
    assert rule.query == raw["BrokenRule"]["query"]
    assert recent(rule.last_evaluation)

    status = SourceStatus.objects.get(name=source_name(prometheus.url))
    assert status.failing_since is None and status.last_success_at is not None


def test_it_records_one_outage_per_target_however_often_it_syncs(prometheus, settings, redis_db):
    sync_from(settings, prometheus.url)
    first = FailingTarget.objects.get(source=prometheus.url, job="broken")
    result = sync_from(settings, prometheus.url)

    assert result.went_down == 0 and result.came_back == 0 and result.failing == 2
    assert FailingTarget.objects.filter(source=prometheus.url).count() == 2
    again = FailingTarget.objects.get(source=prometheus.url, job="broken")
    assert again.pk == first.pk and again.failing_since == first.failing_since
    scrape_url = f"http://{prometheus.broken_target}/metrics"
    [outage] = TargetHistory.objects.filter(source=prometheus.url, scrape_url=scrape_url)
    assert outage.up_at is None
    assert outage.job == "broken" and outage.instance == prometheus.broken_target
    assert "connection refused" in outage.last_error
    assert outage.down_at == first.failing_since
    assert TargetHistory.objects.filter(source=prometheus.url).count() == 2  # + hanging
    assert RuleFailure.objects.filter(source=prometheus.url).count() == 1


# -- the page --------------------------------------------------------------------------------


def test_it_shows_failing_targets_empty_jobs_and_broken_rules(
    prometheus, alertmanager_025, settings, redis_db, silencer_client
):
    sync_from(settings, prometheus.url)
    html = page(silencer_client, "/targets/")

    assert "2 failing scrape targets." in html
    assert re.search(r"<h3>broken <span[^>]*>1 failing</span>", html)
    row = row_of(html, f"http://{prometheus.broken_target}/metrics")
    assert "connection refused" in row
    assert '<span class="state-down">down</span>' in row
    hanging = text_of(row_of(html, f"http://{prometheus.hanging_target}/metrics"))
    assert "unknown" in hanging and "never" in hanging

    empty = section(html, "Jobs with no targets at all", "</div>")
    assert "<code>no-endpoints</code>" in empty
    assert "the Service has no endpoints" in empty
    assert "<code>broken</code>" not in empty and "<code>prometheus</code>" not in empty

    rules = section(html, "Rules that fail to evaluate", "</table>")
    assert "<strong>BrokenRule</strong>" in rules
    assert "many-to-many matching not allowed" in rules

    healthy = section(html, "healthy job", "</details>")
    assert "<code>prometheus</code>" in healthy

    # "Alerts": the alert list filtered on the target's job and instance
    actions = links(row)
    alerts_url = urlsplit(actions["Alerts"])
    assert alerts_url.path == "/alerts/"
    query = parse_qs(alerts_url.query)  # URL-decoded
    [q] = query["q"]
    assert q.replace(" ", "") == f'job="broken",instance="{prometheus.broken_target}"'
    assert parse_matchers(q) == [
        Matcher("job", "=", "broken"),
        Matcher("instance", "=", prometheus.broken_target),
    ]
    assert query["state"] == ["active", "silenced", "inhibited"]

    def target_down_received() -> bool:
        response = requests.get(f"{alertmanager_025.url}/api/v2/alerts", timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        return any(
            a["labels"].get("alertname") == "TargetDown"
            and a["labels"].get("instance") == prometheus.broken_target
            for a in response.json()
        )

    wait_until(target_down_received, FEED_TIMEOUT, f"TargetDown from {prometheus!r}")
    settings.ALERTMANAGER_URLS = [alertmanager_025.url]
    assert unskipped(sync_alerts).error == ""
    response = silencer_client.get(actions["Alerts"])
    assert response.status_code == 200
    assert "TargetDown" in response.content.decode()
    assert response.context["shown_total"] == 1

    # "Silence": a new silence pre-filled with the job and instance matchers
    silence_url = urlsplit(actions["Silence"])
    assert silence_url.path == "/silences/new/"
    response = silencer_client.get(actions["Silence"])
    assert response.status_code == 200
    assert response.context["rows"] == [
        ("job", "=", "broken"),
        ("instance", "=", prometheus.broken_target),
    ]
    form = response.content.decode()
    assert 'name="matcher_name" value="job"' in form
    assert 'name="matcher_value" value="broken"' in form
    assert 'name="matcher_name" value="instance"' in form
    assert f'name="matcher_value" value="{prometheus.broken_target}"' in form


def test_it_hides_the_silence_link_from_viewers(prometheus_242, settings, redis_db, viewer_client):
    sync_from(settings, prometheus_242.url)
    html = page(viewer_client, "/targets/")

    row = row_of(html, f"http://{prometheus_242.broken_target}/metrics")
    assert "Alerts" in links(row)
    assert "Silence" not in links(row)
    assert "/silences/new/" not in html


def test_it_closes_the_outage_when_the_target_comes_back(
    settings, redis_db, tmp_path, silencer_client
):
    port = free_port()
    prom = PrometheusProcess(
        "2.42",
        tmp_path / "prom",
        extra_scrape_configs=f"""
            - job_name: flappy
              static_configs:
                - targets: ['127.0.0.1:{port}']
        """,
    )
    with prom:
        prom.wait_settled()  # only flappy may change between the two syncs

        def flappy_is(health):
            def check():
                target = raw_target(prom, "flappy")
                return (
                    target
                    and target["health"] == health
                    and target["lastScrape"] != GO_ZERO_TIME
                    and target
                )

            return check

        prom.wait_for(flappy_is("down"), TARGET_TIMEOUT, "flappy to be down")
        result = sync_from(settings, prom.url)
        assert result.errors == []
        down = FailingTarget.objects.get(source=prom.url, job="flappy")
        assert down.health == "down" and "connection refused" in down.last_error
        [outage] = TargetHistory.objects.filter(source=prom.url, job="flappy")
        assert outage.up_at is None
        pool = ScrapePool.objects.get(source=prom.url, name="flappy")
        assert (pool.up, pool.failing) == (0, 1)

        with exporter(port):
            prom.wait_for(flappy_is("up"), TARGET_TIMEOUT, "flappy to come back")
            result = sync_from(settings, prom.url)

        assert result.errors == [] and result.came_back == 1
        assert not FailingTarget.objects.filter(source=prom.url, job="flappy").exists()
        outage.refresh_from_db()
        assert outage.up_at is not None and outage.up_at > outage.down_at
        assert TargetHistory.objects.filter(source=prom.url, job="flappy").count() == 1
        pool.refresh_from_db()
        assert (pool.up, pool.failing) == (1, 0)

        html = page(silencer_client, "/targets/")
        assert f"127.0.0.1:{port}/metrics" not in html
        assert "<code>flappy</code>: 1 up" in section(html, "healthy job", "</details>")


def test_it_labels_each_prometheus_when_there_are_several(
    prometheus_242, settings, redis_db, tmp_path, silencer_client
):
    with PrometheusProcess("2.53", tmp_path / "prom253") as second:
        second.wait_settled()
        result = sync_from(settings, prometheus_242.url, second.url)

    assert result.errors == [] and result.failing == 4
    html = page(silencer_client, "/targets/")
    assert "4 failing scrape targets." in html
    for prom in (prometheus_242, second):
        assert re.search(rf"<h2[^>]*>Prometheus 127\.0\.0\.1:{prom.port}\b", html)
        row_of(html, f"http://{prom.broken_target}/metrics")
        row_of(html, f"http://{prom.hanging_target}/metrics")
    # each failing target in its own server's section
    first_section = html.split(f"Prometheus 127.0.0.1:{second.port}")[0]
    assert prometheus_242.broken_target in first_section
    assert second.broken_target not in first_section


# -- when Prometheus cannot be reached -------------------------------------------------------


def test_it_keeps_the_last_known_targets_when_prometheus_is_down(
    own_prometheus, settings, redis_db, silencer_client
):
    url = own_prometheus.url
    assert sync_from(settings, url).errors == []
    assert source_up(metrics(silencer_client), url) == 1

    own_prometheus.stop()
    result = sync_from(settings, url)

    assert len(result.errors) == 1 and url in result.errors[0]
    assert FailingTarget.objects.filter(source=url).count() == 2
    assert RuleFailure.objects.filter(source=url).count() == 1
    status = SourceStatus.objects.get(name=source_name(url))
    assert status.failing_since is not None and status.errors == 1
    assert status.last_success_at is not None and status.runs == 2
    assert url in status.last_error

    html = page(silencer_client, "/targets/")
    banner = re.search(r'<p class="banner error" role="alert">(.*?)</p>', html, re.S)
    assert banner, "no outage banner"
    assert f"Cannot reach {url} since" in banner.group(1)
    assert "Showing the last known state." in banner.group(1)
    row_of(html, f"http://{own_prometheus.broken_target}/metrics")
    assert "BrokenRule" in html
    page(silencer_client, "/alerts/")
    page(silencer_client, "/silences/")
    assert source_up(metrics(silencer_client), url) == 0

    assert sync_from(settings, url).errors
    status.refresh_from_db()
    assert status.errors == 2


# -- nav, /metrics, Celery -------------------------------------------------------------------


def test_it_counts_failing_targets_in_the_nav(prometheus_242, settings, redis_db, viewer_client):
    sync_from(settings, prometheus_242.url)
    count = FailingTarget.objects.count()
    assert count == 2

    for path in ("/alerts/", "/silences/", "/targets/"):
        nav = text_of(page(viewer_client, path).split('id="nav-counts"', 1)[1].split("</span>")[0])
        assert f"{count} targets down" in nav, path


def test_it_exports_failing_targets_and_source_health(prometheus_242, settings, redis_db, client):
    settings.METRICS_TOKEN = ""
    closed = f"http://127.0.0.1:{free_port()}"
    result = sync_from(settings, prometheus_242.url, closed)
    assert len(result.errors) == 1 and closed in result.errors[0]

    samples = metrics(client)  # not logged in
    assert samples[("alertui_failing_targets", ())] == 2
    assert source_up(samples, prometheus_242.url) == 1
    assert source_up(samples, closed) == 0
    assert (
        samples[
            (
                "alertui_sync_errors_total",
                (("cluster", "default"), ("source", f"prometheus {closed}")),
            )
        ]
        == 1
    )


def test_it_runs_as_a_celery_task(prometheus_242, settings, redis_db):
    settings.PROMETHEUS_URLS = [prometheus_242.url]

    outcome = wait_until(
        lambda: (
            (o := tasks.sync_source.delay("targets", "default").get(timeout=30))
            and not o["skipped"]
            and o
        ),
        LOCK_TIMEOUT,
        "the task to get its lock",
        interval=0.5,
    )

    assert outcome == {
        "kind": "targets",
        "cluster": "default",
        "skipped": False,
        "summary": "2 failing (+2 -0)",
        "failures": [],
    }
    after_task = sorted(FailingTarget.objects.values_list("scrape_pool", "scrape_url", "health"))
    assert [pool for pool, _, _ in after_task] == ["broken", "hanging"]
    direct = unskipped(sync_targets)
    assert direct.failing == 2 and direct.errors == []
    assert direct.went_down == 0  # the task's run already recorded the outages
    assert (
        sorted(FailingTarget.objects.values_list("scrape_pool", "scrape_url", "health"))
        == after_task
    )


def test_it_forgets_a_prometheus_removed_from_the_settings(
    prometheus_242, settings, redis_db, viewer_client
):
    settings.METRICS_TOKEN = ""
    sync_from(settings, prometheus_242.url)
    assert FailingTarget.objects.count() == 2

    result = sync_from(settings)  # the server was removed from the configuration

    assert result.errors == []
    html = page(viewer_client, "/targets/")
    assert "0 failing scrape targets." in html
    assert "0 targets down" in text_of(html)
    assert metrics(viewer_client)[("alertui_failing_targets", ())] == 0


def source_name(url: str) -> str:
    return health.name(health.PROMETHEUS, "default", url)
