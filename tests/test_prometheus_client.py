"""alertui.integrations.prometheus against real Prometheus 2.42, 2.53 and 3.5.

The `prometheus` fixture (tests/conftest.py) is a settled tests.servers.PrometheusProcess: its
"prometheus" job is up, "broken" is down (connection refused), "no-endpoints" has no target,
"hanging" has never finished a scrape, and its rules (DEFAULT_RULES) include an always-firing
alert and a rule that fails at every evaluation. Stand-in HTTP servers are used only for
answers a real Prometheus cannot be made to give on demand; each says why.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from alertui.integrations.prometheus import PrometheusClient, PrometheusError
from tests.servers import GO_ZERO_TIME, HTTP_TIMEOUT, free_port, wait_until

CLIENT_METHODS = ("active_targets", "scrape_pools", "rules", "version")
FEED_TIMEOUT = 30  # seconds for Prometheus's alerts to show up in Alertmanager


@pytest.fixture
def client(prometheus):
    return PrometheusClient(prometheus.url, timeout=5)


def _target(client: PrometheusClient, pool: str):
    [target] = [t for t in client.active_targets() if t.scrape_pool == pool]
    return target


def _rules(client: PrometheusClient) -> dict:
    return {rule.name: rule for rule in client.rules()}


def _recent(value: datetime) -> bool:
    """An aware datetime within a minute of now (catches time-zone mix-ups)."""
    return value.tzinfo is not None and abs(datetime.now(UTC) - value) < timedelta(minutes=1)


# -- targets ---------------------------------------------------------------------------------


def test_it_lists_the_healthy_self_scrape(prometheus, client):
    target = _target(client, "prometheus")

    assert target.health == "up"
    assert target.last_error == ""
    assert target.labels == {"instance": f"127.0.0.1:{prometheus.port}", "job": "prometheus"}
    assert target.scrape_url == f"http://127.0.0.1:{prometheus.port}/metrics"
    assert target.scrape_interval == "1s"
    assert isinstance(target.last_scrape, datetime) and _recent(target.last_scrape)
    assert isinstance(target.last_scrape_duration, float) and target.last_scrape_duration > 0


def test_it_lists_the_broken_target_as_down_with_prometheus_error(prometheus, client):
    target = _target(client, "broken")

    assert target.health == "down"
    assert "connection refused" in target.last_error
    assert prometheus.broken_target in target.last_error
    assert target.labels == {"instance": prometheus.broken_target, "job": "broken"}
    assert target.discovered_labels["__address__"] == prometheus.broken_target
    assert target.scrape_url == f"http://{prometheus.broken_target}/metrics"
    assert isinstance(target.last_scrape, datetime) and _recent(target.last_scrape)
    assert isinstance(target.last_scrape_duration, float)


def test_it_gives_no_last_scrape_for_a_target_never_scraped(prometheus, client):
    # Deterministic: the "hanging" target accepts connections and never answers, with a 1h
    # scrape timeout, and Prometheus records lastScrape only when a scrape ends.
    target = _target(client, "hanging")
    [raw] = [t for t in prometheus.raw_targets()["activeTargets"] if t["scrapePool"] == "hanging"]
    assert raw["lastScrape"] == GO_ZERO_TIME  # what the client had to translate

    assert target.health == "unknown"
    assert target.last_scrape is None
    assert target.last_error == ""
    assert target.last_scrape_duration == 0.0
    assert target.labels == {"instance": prometheus.hanging_target, "job": "hanging"}


def test_it_lists_a_scrape_pool_without_targets(client):
    pools = client.scrape_pools()

    assert {"prometheus", "broken", "no-endpoints", "hanging"} <= set(pools)
    assert "no-endpoints" not in {t.scrape_pool for t in client.active_targets()}


# -- rules -----------------------------------------------------------------------------------


def test_it_lists_the_firing_alerting_rule(prometheus, client):
    rule = _rules(client)["AlwaysFiring"]

    assert rule.type == "alerting"
    assert rule.state == "firing"  # the fixture waited for it
    assert rule.health == "ok"
    assert rule.last_error == ""
    assert rule.query == "vector(1)"
    assert rule.labels == {"severity": "info"}
    assert rule.group == "alertui-test"
    assert rule.file == str(prometheus.rules_path)
    assert isinstance(rule.last_evaluation, datetime) and _recent(rule.last_evaluation)


def test_it_lists_the_target_down_rule_firing_for_the_broken_target(prometheus, client):
    rule = wait_until(
        lambda: (r := _rules(client)["TargetDown"]).state == "firing" and r,
        timeout=15,
        what="TargetDown to fire",
    )

    assert rule.type == "alerting"
    assert rule.health == "ok"
    assert rule.query == "up == 0"
    assert rule.labels == {"severity": "critical"}


def test_it_reports_a_rule_failing_evaluation(client):
    rule = _rules(client)["BrokenRule"]

    assert rule.type == "alerting"
    assert rule.health == "err"
    assert "many-to-many matching not allowed" in rule.last_error
    assert rule.state == "inactive"


def _never_evaluated(prometheus, client):
    """The client's WeeklyCheck, checked against the raw API *after* the client's call: a
    lastEvaluation still zero then was zero during that call too."""
    rule = _rules(client)["WeeklyCheck"]
    [raw] = [
        r
        for g in prometheus.raw_rules()["groups"]
        for r in g["rules"]
        if r["name"] == "WeeklyCheck"
    ]
    if raw["lastEvaluation"] != GO_ZERO_TIME:  # its weekly slot fell in this session
        pytest.skip("the weekly rule group happened to be evaluated already")
    return rule


def test_it_reports_a_rule_not_yet_evaluated(prometheus, client):
    rule = _never_evaluated(prometheus, client)

    assert rule.health == "unknown"
    assert rule.state == "inactive"
    assert rule.last_error == ""


def test_it_gives_no_last_evaluation_for_a_rule_not_yet_evaluated(prometheus, client):
    rule = _never_evaluated(prometheus, client)

    assert rule.last_evaluation is None


# -- build info ------------------------------------------------------------------------------


def test_it_reads_the_version(prometheus, client):
    version = client.version()

    assert version.startswith(f"{prometheus.version}.")  # e.g. "2.42.0+ds" (Debian)


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", CLIENT_METHODS)
def test_it_fails_fast_on_an_unreachable_url(method):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens: connection refused
    client = PrometheusClient(url, timeout=5)

    started = time.monotonic()
    with pytest.raises(PrometheusError) as raised:
        getattr(client, method)()

    assert time.monotonic() - started < 2
    assert url in raised.value.message
    assert raised.value.status is None


@contextmanager
def _stand_in(status: int, body: bytes, content_type: str) -> Iterator[str]:
    """An HTTP server answering every GET with `status` and `body`; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=HTTP_TIMEOUT)


@pytest.mark.parametrize("method", CLIENT_METHODS)
def test_it_reports_a_non_json_error_page(method):
    # Stand-in: a real Prometheus answers 503 "Service Unavailable" (plain text) on /api/v1/*
    # only while its TSDB is opening, too briefly to catch reliably; proxies do it too.
    with _stand_in(503, b"Service Unavailable\n", "text/plain; charset=utf-8") as url:
        with pytest.raises(PrometheusError) as raised:
            getattr(PrometheusClient(url, timeout=5), method)()

    assert raised.value.message == f"{url}: 503 Service Unavailable"
    assert raised.value.status == 503


@pytest.mark.parametrize("method", CLIENT_METHODS)
def test_it_reports_prometheus_error_message(method):
    # Stand-in: the client's fixed requests give a real Prometheus no reason to fail, so an
    # error envelope can't be provoked from one.
    body = json.dumps({"status": "error", "errorType": "internal", "error": "boom"}).encode()
    with _stand_in(500, body, "application/json") as url:
        with pytest.raises(PrometheusError) as raised:
            getattr(PrometheusClient(url, timeout=5), method)()

    assert raised.value.message == f"{url}: boom"
    assert raised.value.status == 500


def test_it_times_out_on_a_server_that_never_answers():
    # Stand-in: a real Prometheus always answers these requests quickly. A listening socket
    # that never accepts: the TCP handshake completes in the kernel, no HTTP answer ever comes.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as hanging:
        hanging.bind(("127.0.0.1", 0))
        hanging.listen(8)
        url = f"http://127.0.0.1:{hanging.getsockname()[1]}"
        client = PrometheusClient(url, timeout=1)

        started = time.monotonic()
        with pytest.raises(PrometheusError) as raised:
            client.active_targets()
        elapsed = time.monotonic() - started

    assert 0.9 <= elapsed < 3
    assert url in raised.value.message
    assert "1s" in raised.value.message


# -- end to end: Prometheus feeds Alertmanager -----------------------------------------------


def test_it_feeds_alertmanager_025(prometheus, alertmanager_025):
    def received() -> dict[str, dict] | None:
        response = requests.get(f"{alertmanager_025.url}/api/v2/alerts", timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        mine = {
            alert["labels"]["alertname"]: alert
            for alert in response.json()
            # external label set by PrometheusProcess; the Alertmanager is shared
            if alert["labels"].get("prometheus") == prometheus.name
        }
        return mine if {"AlwaysFiring", "TargetDown"} <= set(mine) else None

    alerts = wait_until(received, FEED_TIMEOUT, f"AlwaysFiring and TargetDown from {prometheus!r}")

    assert alerts["AlwaysFiring"]["labels"]["severity"] == "info"
    down = alerts["TargetDown"]
    assert down["labels"]["job"] == "broken"
    assert down["labels"]["instance"] == prometheus.broken_target
    assert down["labels"]["severity"] == "critical"
    assert down["annotations"]["summary"] == (
        f"Target {prometheus.broken_target} of job broken is down"
    )
    assert "BrokenRule" not in alerts
