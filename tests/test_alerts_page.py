"""The alerts page (/alerts/) and an alert's history, as a user sees them.

Alerts come from the real Alertmanager 0.25 (`alertmanager_025`) through the real sync, except
for the pagination tests, which write thousands of Alert rows directly. The Alertmanager is
shared by the whole session, so every request filters on the test's own `test="<tag>"` label.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from alertui.alerts.models import Alert
from alertui.matchers import Matcher
from alertui.silences.services import Actor, SilenceValues, create_silence
from tests.alerts_page_reading import (
    alerts_page,
    error_banners,
    fire,
    group_named,
    groups,
    links,
    parse_alerts,
    shown_names,
    sync,
    text,
)
from tests.servers import MINIMAL_CONFIG, AlertmanagerProcess, make_alert, wait_until
from tests.snapshots import publish_snapshot

# Every test here reads the alert snapshot: never one cached by an earlier test.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]


# -- grouping --------------------------------------------------------------------------------


def test_it_groups_by_alertname_with_counts_per_state_and_severity(am, silencer_client, tag):
    fire(
        am,
        tag,
        ({"alertname": "DiskFull", "severity": "critical", "instance": "a:9100"}, None),
        ({"alertname": "DiskFull", "severity": "warning", "instance": "b:9100"}, None),
        ({"alertname": "CpuHigh", "severity": "warning"}, None),
    )
    page = alerts_page(silencer_client, tag)

    assert "3 alerts in 2 groups" in text(page)
    # The group with the most severe alert comes first.
    assert [g.heading for g in groups(page)] == ["DiskFull", "CpuHigh"]
    disk = group_named(page, "DiskFull")
    assert disk.counts == ["2 active", "1 critical", "1 warning"]
    assert disk.names() == ["DiskFull", "DiskFull"]
    assert group_named(page, "CpuHigh").counts == ["1 active", "1 warning"]


def test_it_groups_by_another_label_with_a_group_for_alerts_lacking_it(am, silencer_client, tag):
    fire(
        am,
        tag,
        ({"alertname": "One", "instance": "a:9100"}, None),
        ({"alertname": "Two", "instance": "a:9100"}, None),
        ({"alertname": "Three", "instance": "b:9100"}, None),
        ({"alertname": "Four"}, None),
    )
    page = alerts_page(silencer_client, tag, group_by="instance")

    assert sorted(g.heading for g in groups(page)) == ["a:9100", "b:9100", "no instance"]
    assert group_named(page, "a:9100").names() == ["One", "Two"]
    assert group_named(page, "b:9100").names() == ["Three"]
    assert group_named(page, "no instance").names() == ["Four"]
    assert 'value="instance"' in page  # the group-by box keeps the choice
    assert error_banners(page) == []


def test_it_explains_an_invalid_group_by_and_groups_by_alertname(am, silencer_client, tag):
    fire(
        am,
        tag,
        ({"alertname": "One", "instance": "a:9100"}, None),
        ({"alertname": "Two", "instance": "a:9100"}, None),
    )
    page = alerts_page(silencer_client, tag, group_by="foo-bar")

    assert error_banners(page) == ["Cannot group by 'foo-bar': that is not a label name."]
    assert sorted(g.heading for g in groups(page)) == ["One", "Two"]
    assert 'name="group_by" value="alertname"' in page


def test_it_falls_back_to_alertname_for_an_invalid_group_by_without_a_filter(silencer_client):
    Alert.objects.create(
        fingerprint="f1", alertname="Lonely", labels={"alertname": "Lonely"}, state="active"
    )
    publish_snapshot()
    response = silencer_client.get("/alerts/", {"group_by": "foo-bar"})
    page = response.content.decode()

    assert error_banners(page) == ["Cannot group by 'foo-bar': that is not a label name."]
    assert [g.heading for g in groups(page)] == ["Lonely"]


# -- filtering -------------------------------------------------------------------------------


@pytest.fixture
def kube_alerts(am, tag):
    fire(
        am,
        tag,
        (
            {
                "alertname": "ApiDown",
                "severity": "critical",
                "job": "kube-apiserver",
                "namespace": "prod",
            },
            {"summary": "API server unreachable"},
        ),
        (
            {
                "alertname": "SchedulerDown",
                "severity": "critical",
                "job": "kube-scheduler",
                "namespace": "dev",
            },
            {"summary": "Scheduler gone"},
        ),
        (
            {
                "alertname": "NodeDiskFull",
                "severity": "warning",
                "job": "node",
                "namespace": "prod",
            },
            {"summary": "Disk almost full on the node"},
        ),
        (
            {
                "alertname": "KubeletSlow",
                "severity": "warning",
                "job": "kube-kubelet",
                "namespace": "prod",
            },
            {"summary": "Kubelet is slow"},
        ),
    )


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("", ["ApiDown", "KubeletSlow", "NodeDiskFull", "SchedulerDown"]),
        ('severity="critical"', ["ApiDown", "SchedulerDown"]),
        ('job=~"kube-.*"', ["ApiDown", "KubeletSlow", "SchedulerDown"]),
        ('namespace!="dev"', ["ApiDown", "KubeletSlow", "NodeDiskFull"]),
        ('job!~"kube-.*"', ["NodeDiskFull"]),
        ('severity="critical" job=~"kube-.*" namespace!="dev"', ["ApiDown"]),
        ('{severity="warning", job=~"kube-.*"}', ["KubeletSlow"]),
        ('severity="warning",job=~"kube-.*"', ["KubeletSlow"]),
        ("scheduler", ["SchedulerDown"]),  # a word in a label value
        ("disk", ["NodeDiskFull"]),  # a word in the summary
        ("DISK almost", ["NodeDiskFull"]),  # case-insensitive; every word must match
        ('severity="critical" unreachable', ["ApiDown"]),  # matchers and words together
        ("nothing-like-this", []),
    ],
)
def test_it_filters_by_matchers_and_words(kube_alerts, silencer_client, tag, q, expected):
    page = alerts_page(silencer_client, tag, q)

    assert shown_names(page) == expected
    assert error_banners(page) == []
    if not expected:
        assert "No alerts match this filter." in page


def test_it_shows_the_error_of_a_bad_filter_instead_of_failing(kube_alerts, silencer_client, tag):
    page = alerts_page(silencer_client, tag, 'job=~"("')

    [error] = error_banners(page)
    assert error.startswith("Filter: invalid regular expression '(': missing )")
    assert shown_names(page) == []
    assert "No alerts match this filter." in page
    # The filter box keeps what was typed, so it can be corrected.
    assert f'value="test=&quot;{tag}&quot; job=~&quot;(&quot;"' in page


def test_it_shows_the_error_of_an_unclosed_quote(kube_alerts, silencer_client, tag):
    page = alerts_page(silencer_client, tag, 'job="kube')

    [error] = error_banners(page)
    assert "opens a quote that is never closed" in error
    assert shown_names(page) == []


# -- states ----------------------------------------------------------------------------------


def test_it_moves_a_silenced_alert_out_of_the_default_view(am, silencer, silencer_client, tag):
    fire(am, tag, ({"alertname": "Muted"}, None), ({"alertname": "Loud"}, None))
    assert shown_names(alerts_page(silencer_client, tag)) == ["Loud", "Muted"]

    now = timezone.now()
    silence = create_silence(
        Actor(silencer),
        SilenceValues(
            (Matcher("test", "=", tag), Matcher("alertname", "=", "Muted")),
            now,
            now + timedelta(hours=1),
            "maintenance",
        ),
    )
    sync()

    assert shown_names(alerts_page(silencer_client, tag)) == ["Loud"]
    silenced_page = alerts_page(silencer_client, tag, state="silenced")
    [muted] = parse_alerts(silenced_page)
    assert muted.name == "Muted" and muted.state == "silenced"
    assert (f"/silences/{silence.id}/", f"Silenced by {silence.id[:8]}…") in links(muted.html)

    both = alerts_page(silencer_client, tag, state=["active", "silenced"])
    assert shown_names(both) == ["Loud", "Muted"]
    assert {a.name: a.state for a in parse_alerts(both)} == {"Loud": "active", "Muted": "silenced"}
    # The checkboxes show what is selected.
    assert re.search(r'value="silenced"\s+checked', both)
    assert not re.search(r'value="inhibited"\s+checked', both)


def test_it_shows_nothing_when_every_state_is_unticked(am, silencer_client, tag):
    fire(am, tag, ({"alertname": "Any"}, None))
    page = alerts_page(silencer_client, tag, state="")
    assert shown_names(page) == []
    assert "0 alerts in 0 groups" in text(page)


INHIBIT_CONFIG = (
    MINIMAL_CONFIG
    + """\
inhibit_rules:
  - source_matchers: ['role="source"']
    target_matchers: ['role="target"']
    equal: ["test"]
"""
)


def test_it_shows_inhibited_alerts_only_when_asked(
    settings, redis_db, tmp_path, silencer_client, tag
):
    with AlertmanagerProcess("0.25", tmp_path, config=INHIBIT_CONFIG) as own:
        settings.ALERTMANAGER_URLS = [own.url]
        own.push_alerts(
            [
                make_alert({"alertname": "ClusterDown", "role": "source", "test": tag}),
                make_alert({"alertname": "PodDown", "role": "target", "test": tag}),
            ]
        )

        def inhibited() -> bool:
            # The inhibitor learns of the source alert asynchronously.
            response = requests.get(f"{own.url}/api/v2/alerts", timeout=5)
            response.raise_for_status()
            return any(a["status"]["inhibitedBy"] for a in response.json())

        wait_until(inhibited, 10, "Alertmanager to inhibit PodDown")
        sync()

    assert shown_names(alerts_page(silencer_client, tag)) == ["ClusterDown"]
    page = alerts_page(silencer_client, tag, state="inhibited")
    [pod] = parse_alerts(page)
    assert pod.name == "PodDown" and pod.state == "inhibited"
    source = Alert.objects.get(alertname="ClusterDown", labels__test=tag)
    assert (
        f"/alerts/{source.fingerprint}/history/",
        f"Inhibited by alert {source.fingerprint[:8]}…",
    ) in links(pod.html)


# -- one alert's details ---------------------------------------------------------------------


def test_it_shows_labels_summary_description_and_safe_links(am, silencer_client, tag):
    fire(
        am,
        tag,
        (
            {"alertname": "Detailed", "severity": "warning", "instance": "db1:9100"},
            {
                "summary": "Replication lag is high",
                "description": "Lag is 42s.\nCheck the primary.",
                "runbook_url": "https://runbooks.test/replication",
                "dashboard": "javascript:alert(1)",
                "evil_link": "data:text/html,<script>alert(2)</script>",
            },
        ),
    )
    [alert] = parse_alerts(alerts_page(silencer_client, tag))
    shown = text(alert.html)

    assert "Replication lag is high" in shown
    assert "Lag is 42s.<br>Check the primary." in alert.html
    for label in [
        'alertname="Detailed"',
        'severity="warning"',
        'instance="db1:9100"',
        f'test="{tag}"',
    ]:
        assert label in shown
    hrefs = {href: t for href, t in links(alert.html)}
    assert hrefs["https://runbooks.test/replication"] == "https://runbooks.test/replication"
    assert hrefs["http://prometheus.test/graph"] == "Prometheus expression"
    assert hrefs[f"/alerts/{alert.fingerprint}/history/"] == "History"
    # Other schemes are text, never a link.
    assert "dashboard: javascript:alert(1)" in shown
    assert "evil_link: data:text/html,<script>alert(2)</script>" in shown
    assert not [h for h in hrefs if not h.startswith(("/", "?", "http://", "https://"))]
    assert "javascript:" not in " ".join(hrefs) and "data:" not in " ".join(hrefs)


def test_it_escapes_markup_in_labels_and_annotations(am, silencer_client, tag):
    fire(
        am,
        tag,
        (
            {"alertname": "Xss", "evil": "<script>alert(1)</script>"},
            {
                "summary": "<script>alert(2)</script>",
                "description": "<img src=x onerror=alert(3)>",
                "note": "<b onmouseover=alert(4)>bold</b>",
            },
        ),
    )
    for params in ({}, {"group_by": "evil"}, {"state": ["active", "silenced", "inhibited"]}):
        page = alerts_page(silencer_client, tag, **params)
        assert shown_names(page) == ["Xss"]
        assert "<script>alert(" not in page
        assert "<img src=x" not in page and "<b onmouseover" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
        assert "&lt;img src=x onerror=alert(3)&gt;" in page
    grouped = alerts_page(silencer_client, tag, group_by="evil")
    assert [g.heading for g in groups(grouped)] == ["<script>alert(1)</script>"]


def test_it_truncates_a_huge_annotation(am, silencer_client, tag):
    huge = "x" * 100_000
    fire(
        am,
        tag,
        ({"alertname": "Small"}, {"summary": "s", "description": "d", "note": "n"}),
        ({"alertname": "Huge"}, {"summary": huge, "description": huge, "note": huge}),
    )
    small = alerts_page(silencer_client, tag, 'alertname="Small"')
    big = alerts_page(silencer_client, tag, 'alertname="Huge"')

    assert shown_names(big) == ["Huge"]
    assert "x" * 150 in big and "…" in big  # shown, cut short
    assert "x" * 2001 not in big
    assert len(big.encode()) - len(small.encode()) < 50_000


def test_it_truncates_a_huge_label_value(am, silencer_client, tag):
    huge = "y" * 100_000
    fire(am, tag, ({"alertname": "HugeLabel", "instance": huge}, None))
    for group_by in ("alertname", "instance"):
        page = alerts_page(silencer_client, tag, group_by=group_by)
        assert shown_names(page) == ["HugeLabel"]
        assert "y" * 1000 not in text(page), f"grouped by {group_by}"


# -- silence buttons -------------------------------------------------------------------------


def form_rows(page: str) -> set[tuple[str, str, str]]:
    rows = set()
    form = page.split('<template id="matcher-row-template">')[0]  # not the empty "add" row
    for row in re.findall(r'<div class="matcher-row">(.*?)</div>', form, re.S):
        name = re.search(r'name="matcher_name" value="([^"]*)"', row)[1]
        op = re.search(r'<option value="([^"]*)" selected>', row)[1]
        value = re.search(r'name="matcher_value" value="([^"]*)"', row)[1]
        rows.add((html.unescape(name), html.unescape(op), html.unescape(value)))
    return rows


def test_it_prefills_a_silence_with_all_labels_of_an_alert(am, silencer_client, tag):
    labels = {"alertname": "Prefill", "instance": "host:9100", "quote": 'say "hi" \\o/'}
    fire(am, tag, (labels, None))
    [alert] = parse_alerts(alerts_page(silencer_client, tag))
    [silence_url] = [href for href, t in links(alert.html) if t == "Silence"]
    assert silence_url.startswith("/silences/new/?")

    form = silencer_client.get(silence_url)
    assert form.status_code == 200
    expected = {(k, "=", v) for k, v in {**labels, "test": tag}.items()}
    assert form_rows(form.content.decode()) == expected


def test_it_prefills_a_group_silence_with_the_common_labels(am, silencer_client, tag):
    fire(
        am,
        tag,
        ({"alertname": "GroupMe", "severity": "warning", "instance": "a:1"}, None),
        ({"alertname": "GroupMe", "severity": "warning", "instance": "b:1"}, None),
    )
    group = group_named(alerts_page(silencer_client, tag), "GroupMe")
    silence_url = group.link("Silence group")
    assert silence_url and silence_url.startswith("/silences/new/?")

    form = silencer_client.get(silence_url)
    assert form_rows(form.content.decode()) == {
        ("alertname", "=", "GroupMe"),
        ("severity", "=", "warning"),
        ("test", "=", tag),
    }


def test_it_shows_viewers_no_silence_buttons(am, viewer_client, tag):
    fire(am, tag, ({"alertname": "LookOnly", "instance": "a:1"}, None))
    page = alerts_page(viewer_client, tag)

    [alert] = parse_alerts(page)
    assert alert.name == "LookOnly"
    assert ("/alerts/" + alert.fingerprint + "/history/", "History") in links(alert.html)
    texts = [t for _, t in links(page)]
    assert "Silence" not in texts and "Silence group" not in texts
    assert "/silences/new/" not in page


def test_it_hides_silence_buttons_from_a_viewer_after_a_silencer_saw_them(
    am, client, silencer, viewer, tag
):
    # The same alerts rendered for both roles, one after the other (alert HTML is cached).
    fire(am, tag, ({"alertname": "Shared", "instance": "a:1"}, None))
    client.force_login(silencer)
    assert "Silence" in [t for _, t in links(alerts_page(client, tag))]

    client.force_login(viewer)
    page = alerts_page(client, tag)
    assert shown_names(page) == ["Shared"]
    assert "/silences/new/" not in page

    client.force_login(silencer)
    assert "Silence group" in [t for _, t in links(alerts_page(client, tag))]
