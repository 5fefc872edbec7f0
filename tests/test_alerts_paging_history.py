"""The alerts page at scale (paging, expanding, polling), an alert's history, retention and
the outage banner, as a user sees them.

Alerts come from the real Alertmanager 0.25 (`alertmanager_025`) through the real sync, except
for the pagination tests, which write thousands of Alert rows directly. The Alertmanager is
shared by the whole session, so every request filters on the test's own `test="<tag>"` label.
"""

from __future__ import annotations

import io
import re
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from alertui.alerts.models import Alert, AlertHistory
from alertui.sync.retention import prune_history
from tests.alerts_page_reading import (
    alerts_page,
    fire,
    group_named,
    groups,
    links,
    parse_alerts,
    shown_names,
    sync,
    text,
)
from tests.servers import free_port, make_alert
from tests.snapshots import publish_snapshot

# Every test here reads the alert snapshot: never one cached by an earlier test.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]


# -- pagination and large snapshots ----------------------------------------------------------


def make_rows(tag: str, specs: list[tuple[str, str, int]]) -> None:
    """Alert rows written directly: (alertname, severity, how many) each."""
    now = timezone.now()
    rows = []
    for alertname, severity, count in specs:
        for i in range(count):
            labels = {"alertname": alertname, "severity": severity, "test": tag, "pod": f"p{i}"}
            rows.append(
                Alert(
                    fingerprint=f"{alertname}-{i}",
                    alertname=alertname,
                    severity=severity,
                    labels=labels,
                    annotations={"summary": f"{alertname} number {i}"},
                    state="active",
                    starts_at=now - timedelta(minutes=i),
                )
            )
    Alert.objects.bulk_create(rows, batch_size=1000)
    publish_snapshot()


def test_it_pages_groups_and_collapses_large_ones(silencer_client, tag):
    # 3,200 alerts over 300 alertnames: "Big" (critical, 210 alerts) and G000..G298 (10 each).
    make_rows(tag, [("Big", "critical", 210)] + [(f"G{i:03}", "warning", 10) for i in range(299)])

    first = alerts_page(silencer_client, tag)
    assert "3200 alerts in 300 groups, page 1 of 12." in text(first)
    shown = groups(first)
    assert [g.heading for g in shown] == ["Big"] + [f"G{i:03}" for i in range(24)]
    big = shown[0]
    # A large group is collapsed to its header, but its active criticals (up to 10) stay.
    assert len(big.alerts) == 10 and big.counts == ["210 active", "210 critical"]
    assert all(len(g.alerts) == 0 and g.link("Show 10 more") for g in shown[1:])
    assert any(t.startswith("Older") for _, t in links(first))

    second = alerts_page(silencer_client, tag, page=2)
    assert [g.heading for g in groups(second)] == [f"G{i:03}" for i in range(24, 49)]
    assert "page 2 of 12." in text(second)

    expand_url = big.link("Show 200 more")
    assert expand_url and "expand=Big" in expand_url
    expanded = silencer_client.get("/alerts/" + expand_url).content.decode()
    big_expanded = group_named(expanded, "Big")
    assert len(big_expanded.alerts) == 210
    assert not [t for _, t in big_expanded.links if t.startswith("Show ")]
    # Only the expanded group grows, and it can be collapsed again.
    assert all(len(g.alerts) == 0 for g in groups(expanded)[1:])
    collapse_url = big_expanded.link("Collapse")
    assert collapse_url and "expand=Big" not in collapse_url
    collapsed = silencer_client.get("/alerts/" + collapse_url).content.decode()
    assert len(group_named(collapsed, "Big").alerts) == 10


def test_it_keeps_every_group_with_an_active_critical_on_page_one(silencer_client, tag):
    # 30 critical groups: more than a page holds. The newest start ranks first, whatever the
    # size of the group; then 40 groups of warnings, which go to the later pages.
    make_rows(
        tag,
        [(f"Crit{i}", "critical", 1 + i % 3) for i in range(30)]
        + [(f"Warn{i}", "warning", 8) for i in range(40)],
    )
    page = alerts_page(silencer_client, tag)
    headings = [g.heading for g in groups(page)]
    assert len(headings) == 30 and all(h.startswith("Crit") for h in headings)
    assert "page 1 of 3." in text(page)
    second = alerts_page(silencer_client, tag, page=2)
    assert [g.heading for g in groups(second)] == [f"Warn{i}" for i in range(25)]
    third = alerts_page(silencer_client, tag, page=3)
    assert [g.heading for g in groups(third)] == [f"Warn{i}" for i in range(25, 40)]


def test_it_ranks_by_the_worst_active_severity_then_the_newest_start(silencer_client, tag):
    now = timezone.now()

    def row(fingerprint, alertname, severity, minutes_ago, silenced=False):
        labels = {"alertname": alertname, "severity": severity, "test": tag, "id": fingerprint}
        return Alert(
            fingerprint=fingerprint,
            alertname=alertname,
            severity=severity,
            labels=labels,
            state="suppressed" if silenced else "active",
            is_silenced=silenced,
            silenced_by=["s1"] if silenced else [],
            starts_at=now - timedelta(minutes=minutes_ago),
        )

    Alert.objects.bulk_create(
        [
            # A noisy group whose only critical is silenced: it ranks as a warning group.
            *(row(f"noisy{i}", "Noisy", "warning", 1) for i in range(20)),
            row("noisy-crit", "Noisy", "critical", 1, silenced=True),
            row("old", "OldCritical", "critical", 120),
            row("new", "NewCritical", "critical", 2),
            row("err", "SomeError", "error", 0),
        ]
    )
    publish_snapshot()
    page = alerts_page(silencer_client, tag, state=["active", "silenced"])
    assert [g.heading for g in groups(page)] == ["NewCritical", "OldCritical", "SomeError", "Noisy"]
    # Within a group, the most severe first.
    noisy = group_named(
        alerts_page(silencer_client, tag, state=["active", "silenced"], expand="Noisy"), "Noisy"
    )
    assert noisy.alerts[0].fingerprint == "noisy-crit"


def test_it_sorts_group_names_naturally(silencer_client, tag):
    names = ["LoadAlert10", "LoadAlert2", "LoadAlert1", "loadAlert3", "Load"]
    make_rows(tag, [(name, "warning", 1) for name in names])
    page = alerts_page(silencer_client, tag)
    assert [g.heading for g in groups(page)] == [
        "Load",
        "LoadAlert1",
        "LoadAlert2",
        "loadAlert3",
        "LoadAlert10",
    ]


def test_it_keeps_the_page_small_with_ten_thousand_alerts(silencer_client, tag):
    # 6,000 alerts in one group plus 4,000 groups of one.
    make_rows(tag, [("Flood", "critical", 6000)] + [(f"S{i:04}", "info", 1) for i in range(4000)])

    page = alerts_page(silencer_client, tag)
    assert "10000 alerts in 4001 groups, page 1 of 161." in text(page)
    assert len(groups(page)) == 25
    assert len(parse_alerts(page)) == 10 + 24
    assert len(page.encode()) < 200_000
    flood = group_named(page, "Flood")
    assert flood.link("Show 5990 more")

    expanded = alerts_page(silencer_client, tag, expand="Flood")
    assert len(group_named(expanded, "Flood").alerts) == 500  # a hard cap even when expanded

    last = alerts_page(silencer_client, tag, page=161)
    assert [g.heading for g in groups(last)] == ["S3999"]
    past_the_end = alerts_page(silencer_client, tag, page=9999)
    assert [g.heading for g in groups(past_the_end)] == ["S3999"]  # the last page


def test_it_expands_a_group_on_a_later_page(silencer_client, tag):
    # 30 groups of 10 warnings, then "Tail" (15 infos) ranked last: on page 2.
    make_rows(tag, [(f"G{i:03}", "warning", 10) for i in range(30)] + [("Tail", "info", 15)])
    second = alerts_page(silencer_client, tag, page=2)
    expand_url = group_named(second, "Tail").link("Show 15 more")
    assert expand_url

    expanded = silencer_client.get("/alerts/" + expand_url).content.decode()
    assert len(group_named(expanded, "Tail").alerts) == 15


def test_it_expands_the_group_of_alerts_lacking_the_label(silencer_client, tag):
    make_rows(tag, [("NoInstance", "warning", 12)])
    page = alerts_page(silencer_client, tag, group_by="instance")
    group = group_named(page, "no instance")
    assert len(group.alerts) == 0  # collapsed: more than a few warnings
    expand_url = group.link("Show 12 more")
    assert expand_url

    expanded = silencer_client.get("/alerts/" + expand_url).content.decode()
    assert len(group_named(expanded, "no instance").alerts) == 12


def test_it_offers_no_dead_show_more_link_past_the_expansion_cap(silencer_client, tag):
    make_rows(tag, [("Flood", "critical", 600)])
    expanded = alerts_page(silencer_client, tag, expand="Flood")
    flood = group_named(expanded, "Flood")
    assert len(flood.alerts) == 500
    for href, label in flood.links:
        if label.startswith("Show "):
            again = silencer_client.get("/alerts/" + href).content.decode()
            assert len(group_named(again, "Flood").alerts) > 500, f"{label!r} changes nothing"


# -- htmx polling ----------------------------------------------------------------------------


def test_it_answers_htmx_polls_with_the_results_only(am, silencer_client, tag):
    fire(am, tag, ({"alertname": "Polled"}, None))
    params = {"q": f'test="{tag}"'}

    partial = silencer_client.get("/alerts/", params, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="results"')
    assert "<html" not in body and "<form" not in body
    assert shown_names(body) == ["Polled"]
    assert re.search(r'<span id="nav-counts" class="nav-counts" hx-swap-oob="true">', body)
    assert re.search(r"\d+ firing", text(body))

    full = silencer_client.get("/alerts/", params).content.decode()
    assert "<html" in full and 'id="results"' in full and 'id="alert-filter"' in full
    assert shown_names(full) == ["Polled"]
    assert full.count('id="nav-counts"') == 1 and "hx-swap-oob" not in full

    # A boosted navigation (hx-boost) needs the whole page.
    boosted = silencer_client.get(
        "/alerts/", params, headers={"HX-Request": "true", "HX-Boosted": "true"}
    )
    assert "<html" in boosted.content.decode()


# -- history ---------------------------------------------------------------------------------


def test_it_records_and_shows_each_firing_of_an_alert(am, silencer_client, tag):
    labels = {"alertname": "Flapping", "test": tag}
    am.push_alerts([make_alert(labels)])
    sync()
    fingerprint = Alert.objects.get(labels__test=tag).fingerprint

    resolved = make_alert(labels)
    resolved["endsAt"] = resolved["startsAt"]
    am.push_alerts([resolved])
    sync()
    assert not Alert.objects.filter(labels__test=tag).exists()
    page = silencer_client.get(f"/alerts/{fingerprint}/history/").content.decode()
    assert "Not firing now." in page

    time.sleep(0.01)
    am.push_alerts([make_alert(labels)])
    sync()

    firings = list(AlertHistory.objects.filter(fingerprint=fingerprint).order_by("started_at"))
    assert len(firings) == 2
    assert firings[0].resolved_at is not None and firings[0].resolved_at >= firings[0].started_at
    assert firings[1].resolved_at is None and firings[1].started_at >= firings[0].resolved_at
    assert all(f.alertname == "Flapping" and f.labels == labels for f in firings)

    response = silencer_client.get(f"/alerts/{fingerprint}/history/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "History of Flapping" in page
    assert "Firing now, for" in page
    rows = re.findall(r"<tr><td>(.*?)</tr>", page, re.S)
    assert len(rows) == 2
    newest, oldest = rows
    assert "still firing" in newest
    assert f"{firings[0].resolved_at:%Y-%m-%d %H:%M:%S} UTC" in oldest
    assert "still firing" not in oldest
    assert f'test="{tag}"' in text(page)

    # The alerts page links to it.
    [alert] = parse_alerts(alerts_page(silencer_client, tag))
    assert (f"/alerts/{fingerprint}/history/", "History") in links(alert.html)


def test_it_answers_404_for_an_unknown_fingerprint(silencer_client):
    response = silencer_client.get("/alerts/0123456789abcdef/history/")
    assert response.status_code == 404
    assert "alertui has no record of this alert." in response.content.decode()


# -- snapshot cache --------------------------------------------------------------------------


def test_it_shows_what_a_sync_changed_at_once(am, silencer_client, tag):
    fire(am, tag, ({"alertname": "First"}, None))
    assert shown_names(alerts_page(silencer_client, tag)) == ["First"]
    assert shown_names(alerts_page(silencer_client, tag)) == ["First"]  # served from the cache

    fire(am, tag, ({"alertname": "Second"}, {"summary": "new"}))
    assert shown_names(alerts_page(silencer_client, tag)) == ["First", "Second"]

    fire(am, tag, ({"alertname": "Second"}, {"summary": "changed summary"}))
    [second] = [a for a in parse_alerts(alerts_page(silencer_client, tag)) if a.name == "Second"]
    assert "changed summary" in text(second.html)

    gone = make_alert({"alertname": "First", "test": tag})
    gone["endsAt"] = gone["startsAt"]
    am.push_alerts([gone])
    sync()
    assert shown_names(alerts_page(silencer_client, tag)) == ["Second"]


# -- retention -------------------------------------------------------------------------------


def test_it_prunes_only_history_resolved_before_the_retention(settings):
    settings.HISTORY_RETENTION = 3600
    now = timezone.now()

    def firing(name, started_ago, resolved_ago=None):
        return AlertHistory.objects.create(
            fingerprint=name,
            alertname=name,
            labels={"alertname": name},
            started_at=now - started_ago,
            resolved_at=None if resolved_ago is None else now - resolved_ago,
        )

    firing("OldResolved", timedelta(hours=5), timedelta(hours=2))
    firing("AlsoOld", timedelta(days=30), timedelta(days=29))
    firing("RecentResolved", timedelta(hours=3), timedelta(minutes=10))
    firing("LongRunning", timedelta(days=10))  # started long ago, still firing

    assert prune_history() == {
        "alert_history": 2,
        "target_history": 0,
        "notice_deliveries": 0,
        "silence_reminders": 0,
    }
    assert sorted(AlertHistory.objects.values_list("alertname", flat=True)) == [
        "LongRunning",
        "RecentResolved",
    ]


def test_it_prints_what_the_prune_command_deleted(settings):
    settings.HISTORY_RETENTION = 60
    now = timezone.now()
    AlertHistory.objects.create(
        fingerprint="a",
        alertname="Old",
        started_at=now - timedelta(hours=2),
        resolved_at=now - timedelta(hours=1),
    )
    out = io.StringIO()
    call_command("prune_history", stdout=out)
    assert out.getvalue().strip() == (
        "Deleted 1 alert and 0 target history rows, 0 notice deliveries."
    )
    assert not AlertHistory.objects.exists()

    out = io.StringIO()
    call_command("prune_history", stdout=out)
    assert out.getvalue().strip() == (
        "Deleted 0 alert and 0 target history rows, 0 notice deliveries."
    )


# -- outage banner ---------------------------------------------------------------------------


def test_it_keeps_the_last_alerts_and_warns_when_alertmanager_is_unreachable(
    am, settings, silencer_client, tag
):
    fire(am, tag, ({"alertname": "StillThere"}, None))
    page = alerts_page(silencer_client, tag)
    assert "Cannot reach" not in page

    settings.ALERTMANAGER_URLS = [f"http://127.0.0.1:{free_port()}"]
    assert sync().error

    page = alerts_page(silencer_client, tag)
    assert shown_names(page) == ["StillThere"]
    banners = [
        text(b)
        for b in re.findall(r'<div class="banner error" role="alert">(.*?)</div>', page, re.S)
    ]
    assert len(banners) == 1
    assert banners[0].startswith("Cannot reach Alertmanager (alerts) since ")
    assert "Showing the last known state." in banners[0]


# -- home ------------------------------------------------------------------------------------


def test_it_redirects_home_to_the_alerts(silencer_client):
    response = silencer_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/alerts/"


def test_it_sends_anonymous_visitors_to_the_login(client):
    response = client.get("/alerts/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
