"""The nav's counters ("N firing", "N targets down"): counted by the writers when the data
changes (alert sync, a silence applied at once, targets sync), stored with the version they
count, and read on every page and poll; and the one htmx helper that sends a list page's
partial with the counters as an out-of-band swap.

Alerts come from the shared real Alertmanager 0.25 (the `am` fixture), targets from a real
Prometheus 2.42; rows written by hand are said to be so.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from alertui.alerts.models import Alert
from alertui.nav import counts
from alertui.nav.models import NavCount
from alertui.sync import health
from alertui.sync.models import SourceStatus
from tests.servers import make_alert
from tests.snapshots import publish_snapshot
from tests.test_browser_alerts import my_alerts, sync_until
from tests.test_targets import sync_from

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]


def nav_text(html: str) -> str:
    """The text of the nav counters (the first nav-counts element of the page)."""
    part = html.split('id="nav-counts"', 1)[1].split("<span class", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", part.split(">", 1)[1]).split())


def firing_shown(client) -> int:
    return int(re.match(r"(\d+) firing", nav_text(client.get("/silences/").content.decode()))[1])


def live_firing() -> int:
    return Alert.objects.filter(is_silenced=False, is_inhibited=False).count()


def snapshot_version() -> int:
    return SourceStatus.objects.get(name=health.SNAPSHOT).version


def push(am, tag: str, count: int) -> None:
    am.push_alerts(
        [make_alert({"alertname": "NavCount", "test": tag, "n": str(i)}) for i in range(count)]
    )


# -- firing alerts ---------------------------------------------------------------------------


def test_it_counts_firing_alerts_when_the_sync_changes_them(am, tag, viewer_client):
    push(am, tag, 2)
    sync_until(lambda: len(my_alerts(tag)) == 2, "2 alerts")
    stored = NavCount.objects.get(name=counts.FIRING)
    assert (stored.value, stored.version) == (live_firing(), snapshot_version())
    before = firing_shown(viewer_client)
    assert before == live_firing()

    push(am, tag + "b", 3)
    assert firing_shown(viewer_client) == before  # not synced yet
    sync_until(lambda: len(my_alerts(tag + "b")) == 3, "3 more alerts")

    assert firing_shown(viewer_client) == before + 3
    assert NavCount.objects.get(name=counts.FIRING).version == snapshot_version()


def test_it_never_shows_a_count_of_another_snapshot_version(am, tag, viewer_client):
    push(am, tag, 1)
    sync_until(lambda: len(my_alerts(tag)) == 1, "1 alert")
    firing = live_firing()
    # Rows written by hand, published as a new version without recounting: the stored count
    # is of the version before.
    now = timezone.now()
    Alert.objects.bulk_create(
        Alert(
            fingerprint=f"{tag}-hand-{i}",
            alertname="ByHand",
            labels={"alertname": "ByHand", "test": tag},
            state="active",
            starts_at=now - timedelta(minutes=1),
        )
        for i in range(4)
    )
    publish_snapshot()
    assert NavCount.objects.get(name=counts.FIRING).version != snapshot_version()

    assert firing_shown(viewer_client) == firing + 4


def test_a_silence_moves_the_stored_count_at_once(am, tag, silencer_client):
    push(am, tag, 2)
    sync_until(lambda: len(my_alerts(tag)) == 2, "2 alerts")
    before = firing_shown(silencer_client)

    response = silencer_client.post(
        "/silences/new/",
        {
            "matcher_name": ["test"],
            "matcher_op": ["="],
            "matcher_value": [tag],
            "duration": "1h",
            "comment": f"nav count {tag}",
            "tz": "UTC",
        },
    )
    assert response.status_code == 302

    stored = NavCount.objects.get(name=counts.FIRING)
    assert (stored.value, stored.version) == (before - 2, snapshot_version())
    assert firing_shown(silencer_client) == before - 2


# -- failing targets -------------------------------------------------------------------------


def test_each_targets_sync_puts_the_stored_count_right(
    prometheus_242, settings, redis_db, viewer_client
):
    sync_from(settings, prometheus_242.url)
    stored = NavCount.objects.get(name=counts.FAILING_TARGETS)
    assert stored.value == 2
    assert "2 targets down" in nav_text(viewer_client.get("/alerts/").content.decode())

    # A count gone wrong (written by hand) shows until the next sync, which counts again.
    NavCount.objects.filter(name=counts.FAILING_TARGETS).update(value=7)
    assert "7 targets down" in nav_text(viewer_client.get("/alerts/").content.decode())
    sync_from(settings, prometheus_242.url)
    assert "2 targets down" in nav_text(viewer_client.get("/alerts/").content.decode())
    assert NavCount.objects.get(name=counts.FAILING_TARGETS).version > stored.version


def test_a_prometheus_taken_out_of_the_settings_leaves_the_count(
    prometheus_242, settings, redis_db, viewer_client
):
    sync_from(settings, prometheus_242.url)
    assert "2 targets down" in nav_text(viewer_client.get("/alerts/").content.decode())

    sync_from(settings)  # no Prometheus any more: its targets are forgotten

    assert "0 targets down" in nav_text(viewer_client.get("/alerts/").content.decode())
    assert NavCount.objects.get(name=counts.FAILING_TARGETS).value == 0


def test_without_a_stored_count_the_rows_are_counted(
    prometheus_242, settings, redis_db, viewer_client
):
    sync_from(settings, prometheus_242.url)
    NavCount.objects.all().delete()  # as just after the upgrade that added them

    nav = nav_text(viewer_client.get("/targets/").content.decode())

    assert "2 targets down" in nav and f"{live_firing()} firing" in nav


# -- the htmx helper -------------------------------------------------------------------------

LIST_PAGES = ["/alerts/", "/silences/", "/audit/", "/targets/"]


@pytest.mark.parametrize("path", LIST_PAGES)
def test_an_htmx_request_gets_the_results_and_the_counters_out_of_band(path, viewer_client):
    response = viewer_client.get(path, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="results"')
    assert "<html" not in html and "<nav" not in html
    assert html.count('id="nav-counts"') == 1
    assert re.search(r'<span id="nav-counts" class="nav-counts" hx-swap-oob="true">', html)
    assert "firing" in nav_text(html)


@pytest.mark.parametrize("path", LIST_PAGES)
def test_a_boosted_or_plain_request_gets_the_whole_page(path, viewer_client):
    for headers in ({"HX-Request": "true", "HX-Boosted": "true"}, {}):
        html = viewer_client.get(path, headers=headers).content.decode()

        assert "<html" in html and 'id="results"' in html
        assert html.count('id="nav-counts"') == 1
        assert "hx-swap-oob" not in html
