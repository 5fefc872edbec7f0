"""Every call to Alertmanager or Prometheus ends by its deadline and reads a bounded answer, so
a slow peer cannot hold a request, a silence's lock or a sync's lock for longer.

The trickling peers are stand-ins (tests/standins.py FaultyProxy in front of a real server): a
real Alertmanager or Prometheus cannot be made to send its answer a byte a second. A byte a
second never trips a 2 s socket timeout; only a deadline over the whole call ends it. The proxy
stops trickling after a minute, so a call that is not cut off fails its test instead of hanging.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from alertui.alerts.sync import sync_alerts
from alertui.audit.models import PendingChange
from alertui.integrations.alertmanager import AlertmanagerClient, AlertmanagerUnavailable
from alertui.integrations.prometheus import PrometheusClient, PrometheusError
from alertui.locks import exclusive, serialized, sync_lock_timeout
from alertui.matchers import Matcher
from alertui.silences import services
from alertui.silences.services import Actor, SilenceActionError, SilenceValues
from alertui.silences.sync import sync_silences
from alertui.sync.runs import lock_name
from alertui.targets.sync import sync_targets
from tests.servers import AlertmanagerProcess, make_alert
from tests.standins import FaultyProxy

pytestmark = pytest.mark.django_db


def trickling(upstream: str, fault: str = "trickle", methods=("GET", "POST", "DELETE")):
    return FaultyProxy(upstream, lambda method, path, headers: fault if method in methods else None)


def lock_is_free(redis_db, settings, name: str) -> bool:
    return not redis_db.exists(f"{settings.LOCK_PREFIX}:lock:{name}")


# -- a deadline over the whole call ---------------------------------------------------------------


def test_a_read_from_a_trickling_peer_ends_at_the_deadline(alertmanager_025):
    proxy = trickling(alertmanager_025.url)
    try:
        with pytest.raises(AlertmanagerUnavailable) as caught:
            AlertmanagerClient([proxy.url], timeout=2).list_silences()
    finally:
        proxy.stop()

    assert caught.value.message == (
        f"Alertmanager is unreachable: {proxy.url}: no whole answer within 2s"
    )


def test_the_sync_against_a_trickling_peer_ends_and_frees_its_lock(
    alertmanager_025, settings, redis_db
):
    proxy = trickling(alertmanager_025.url)
    try:
        settings.ALERTMANAGER_URLS = [proxy.url]
        settings.ALERTMANAGER_TIMEOUT = 2
        result = sync_silences()
    finally:
        proxy.stop()

    assert result.error == f"Alertmanager is unreachable: {proxy.url}: no whole answer within 2s"
    assert lock_is_free(redis_db, settings, lock_name("silences", "default"))
    with exclusive(lock_name("silences", "default")) as acquired:
        assert acquired


def test_a_change_through_a_trickling_peer_leaves_its_outcome_unknown_and_frees_the_silence(
    am, settings, redis_db, silencer, tag
):
    now = timezone.now()
    values = SilenceValues((Matcher("test", "=", tag),), now, now + timedelta(hours=1), "work")
    silence = services.create_silence(Actor(silencer), values)
    proxy = trickling(am.url, methods=("POST",))  # the edit is sent, its answer trickles
    try:
        settings.ALERTMANAGER_URLS = [proxy.url]
        settings.ALERTMANAGER_TIMEOUT = 2
        with pytest.raises(SilenceActionError) as caught:
            services.extend_silence(Actor(silencer), silence.id, now + timedelta(hours=3))
    finally:
        proxy.stop()

    assert caught.value.reason == "unknown_outcome"
    assert f"{proxy.url}: no whole answer within 2s" in caught.value.message
    assert PendingChange.objects.get().action == "extended"  # for the sync to settle
    assert lock_is_free(redis_db, settings, f"silence:{silence.id}")


def test_a_prometheus_that_trickles_its_headers_is_cut_off_at_the_deadline(
    prometheus_242, settings, redis_db
):
    proxy = trickling(prometheus_242.url, "trickle headers")
    try:
        with pytest.raises(PrometheusError) as caught:
            PrometheusClient(proxy.url, timeout=2).version()
        settings.PROMETHEUS_URLS = [proxy.url]
        settings.PROMETHEUS_TIMEOUT = 2
        result = sync_targets()
    finally:
        proxy.stop()

    assert caught.value.message == f"{proxy.url}: no whole answer within 2s"
    # On a loaded machine the first trickled byte can come after the deadline: then nothing
    # came at all ("no answer"). Either way the sync gave up at the deadline.
    (error,) = result.errors
    assert error in (f"{proxy.url}: no whole answer within 2s", f"{proxy.url}: no answer within 2s")
    assert lock_is_free(redis_db, settings, lock_name("targets", "default"))


# -- a limit on the answer's size -----------------------------------------------------------------


def test_an_answer_over_the_size_limit_is_an_error_naming_the_limit(
    tmp_path, settings, redis_db, silencer_client, fresh_snapshot, tag
):
    # Its own Alertmanager: 1 MB of alerts would slow every other test reading the shared one.
    with AlertmanagerProcess("0.25", tmp_path) as own:
        own.push_alerts(
            [make_alert({"test": tag, "n": str(n)}, {"text": "x" * 5000}) for n in range(250)]
        )
        settings.ALERTMANAGER_URLS = [own.url]
        settings.ALERTMANAGER_MAX_RESPONSE_MB = 1
        result = sync_alerts()
        banner_page = silencer_client.get("/alerts/").content.decode()
        settings.ALERTMANAGER_MAX_RESPONSE_MB = 2
        assert sync_alerts().error == ""

    limit = "answer larger than the limit of 1 MB"
    assert result.error == f"Alertmanager is unreachable: {own.url}: {limit}"
    assert limit in banner_page


def test_a_prometheus_answer_over_the_size_limit_is_an_error(prometheus_242):
    client = PrometheusClient(prometheus_242.url, max_response_bytes=500)

    with pytest.raises(PrometheusError) as caught:
        client.active_targets()

    assert caught.value.message == (
        f"{prometheus_242.url}: answer larger than the limit of 0.0005 MB"
    )


# -- locks outlast the calls they guard -----------------------------------------------------------


def test_locks_outlast_the_longest_calls_they_guard(settings, redis_db):
    settings.ALERTMANAGER_URLS = ["http://am-0:9093", "http://am-1:9093", "http://am-2:9093"]
    settings.ALERTMANAGER_TIMEOUT = 30
    settings.PROMETHEUS_URLS = [f"http://prometheus-{n}:9090" for n in range(4)]
    settings.PROMETHEUS_TIMEOUT = 60

    with serialized("silence:x"):
        change_lock = redis_db.pttl(f"{settings.LOCK_PREFIX}:lock:silence:x") / 1000
    with exclusive(lock_name("targets", "default"), timeout=sync_lock_timeout()) as acquired:
        assert acquired
        sync_lock = redis_db.pttl(f"{settings.LOCK_PREFIX}:lock:sync:targets:default") / 1000

    # A change reads, writes and reads back (5 calls at most), each trying 3 peers for 30s.
    assert change_lock > 5 * 3 * 30
    # A targets sync makes 3 calls to each of 4 servers, 60s each.
    assert sync_lock > 3 * 4 * 60
