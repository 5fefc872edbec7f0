"""The alerts page (/alerts/) and an alert's history, as a user sees them.

Alerts come from the real Alertmanager 0.25 (`alertmanager_025`) through the real sync, except
for the pagination tests, which write thousands of Alert rows directly. The Alertmanager is
shared by the whole session, so every request filters on the test's own `test="<tag>"` label.
"""

from __future__ import annotations

import html
import io
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from alertui.alerts import sources
from alertui.alerts.models import Alert, AlertHistory
from alertui.alerts.retention import prune_history
from alertui.alerts.sync import sync_alerts
from alertui.matchers import Matcher
from alertui.silences.services import Actor, SilenceValues, create_silence
from tests.servers import MINIMAL_CONFIG, AlertmanagerProcess, free_port, make_alert, wait_until

# Every test here reads the alert snapshot: never one cached by an earlier test.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]


# -- fixtures --------------------------------------------------------------------------------


def sync(timeout: float = 20):
    """sync_alerts(), waiting while another run (another test session on the same Redis) holds
    the sync lock."""
    deadline = time.monotonic() + timeout
    while True:
        result = sync_alerts()
        if not result.skipped:
            return result
        assert time.monotonic() < deadline, "the sync lock stayed taken"
        time.sleep(0.1)


def fire(am, tag, *alerts):
    """Push (labels, annotations) pairs, each labelled test=<tag>, then sync."""
    am.push_alerts(
        [make_alert({**labels, "test": tag}, annotations) for labels, annotations in alerts]
    )
    assert sync().error == ""


# -- reading the page ------------------------------------------------------------------------


@dataclass
class ShownAlert:
    name: str
    state: str
    fingerprint: str
    html: str


@dataclass
class Group:
    heading: str
    counts: list[str]
    alerts: list[ShownAlert]
    html: str
    links: list[tuple[str, str]] = field(default_factory=list)

    def names(self) -> list[str]:
        return sorted(a.name for a in self.alerts)

    def link(self, text: str) -> str | None:
        return next((href for href, t in self.links if t == text), None)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._open: list[list] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._open.append([dict(attrs).get("href"), ""])

    def handle_data(self, data):
        for entry in self._open:
            entry[1] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._open:
            href, text = self._open.pop()
            self.links.append((href, " ".join(text.split())))


def links(fragment: str) -> list[tuple[str, str]]:
    """(href, text) of every <a> in the fragment; href unescaped as a browser would."""
    parser = _Links()
    parser.feed(fragment)
    parser.close()
    return parser.links


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def parse_alerts(fragment: str) -> list[ShownAlert]:
    found = []
    for m in re.finditer(
        r'<details class="alert (\w+)" data-key="([^"]*)">(.*?)</details>', fragment, re.S
    ):
        name = re.search(r"<strong>(.*?)</strong>", m[3], re.S)
        found.append(ShownAlert(html.unescape(name[1]) if name else "", m[1], m[2], m[3]))
    return found


def groups(page: str) -> list[Group]:
    found = []
    for chunk in page.split('<section class="group"')[1:]:
        body = chunk.split("</section>")[0]
        header = body.split("</header>")[0]
        heading = re.search(r"<h2>(.*?)</h2>", header, re.S)
        counts = [
            text(c) for c in re.findall(r'<span class="(?:badge|sev) [^"]*">.*?</span>', header)
        ]
        found.append(
            Group(
                text(heading[1]) if heading else "", counts, parse_alerts(body), body, links(body)
            )
        )
    return found


def group_named(page: str, heading: str) -> Group:
    matching = [g for g in groups(page) if g.heading == heading]
    assert len(matching) == 1, f"groups: {[g.heading for g in groups(page)]}"
    return matching[0]


def shown_names(page: str) -> list[str]:
    return sorted(a.name for a in parse_alerts(page))


def alerts_page(client, tag, q="", **params) -> str:
    """The alerts page filtered on this test's alerts (plus `q`), as HTML text."""
    if q.startswith("{"):  # Alertmanager's {a="b", ...} form: ours goes inside the braces
        params["q"] = f'{{test="{tag}", {q[1:]}'
    else:
        params["q"] = f'test="{tag}" {q}'.strip()
    response = client.get("/alerts/", params)
    assert response.status_code == 200
    return response.content.decode()


def error_banners(page: str) -> list[str]:
    return [text(e) for e in re.findall(r'<p class="error" role="alert">(.*?)</p>', page, re.S)]


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
    sources.record_success(sources.ALERTMANAGER_ALERTS, changed=True)
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
    assert not [h for h in hrefs if not h.startswith(("/", "http://", "https://"))]
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
    sources.record_success(sources.ALERTMANAGER_ALERTS, changed=True)


def test_it_pages_groups_and_caps_alerts_per_group(silencer_client, tag):
    # 3,200 alerts over 300 alertnames: "Big" (critical, 210 alerts) and G000..G298 (10 each).
    make_rows(tag, [("Big", "critical", 210)] + [(f"G{i:03}", "warning", 10) for i in range(299)])

    first = alerts_page(silencer_client, tag)
    assert "3200 alerts in 300 groups, page 1 of 12." in text(first)
    shown = groups(first)
    assert [g.heading for g in shown] == ["Big"] + [f"G{i:03}" for i in range(24)]
    assert all(len(g.alerts) <= 10 for g in shown)
    big = shown[0]
    assert len(big.alerts) == 10 and big.counts == ["210 active", "210 critical"]
    assert all(g.link("Show 200 more") is None for g in shown[1:])
    assert any(t.startswith("Older") for _, t in links(first))

    second = alerts_page(silencer_client, tag, page=2)
    assert [g.heading for g in groups(second)] == [f"G{i:03}" for i in range(24, 49)]
    assert "page 2 of 12." in text(second)

    expand_url = big.link("Show 200 more")
    assert expand_url and "expand=Big" in expand_url
    expanded = silencer_client.get("/alerts/" + expand_url)
    assert expanded.status_code == 200
    big_expanded = group_named(expanded.content.decode(), "Big")
    assert len(big_expanded.alerts) == 210
    assert not [t for _, t in big_expanded.links if t.startswith("Show ")]
    # Only the expanded group grows.
    assert all(len(g.alerts) == 10 for g in groups(expanded.content.decode())[1:])


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
    expand_url = group_named(second, "Tail").link("Show 5 more")
    assert expand_url

    expanded = silencer_client.get("/alerts/" + expand_url).content.decode()
    assert len(group_named(expanded, "Tail").alerts) == 15


def test_it_expands_the_group_of_alerts_lacking_the_label(silencer_client, tag):
    make_rows(tag, [("NoInstance", "warning", 12)])
    page = alerts_page(silencer_client, tag, group_by="instance")
    group = group_named(page, "no instance")
    assert len(group.alerts) == 10
    expand_url = group.link("Show 2 more")
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
