"""An alert's row on the alerts page: who silenced it, why and for how long, with Extend and
Expire at hand; which alert inhibits it; its order in the group.

Alerts come from the real Alertmanager 0.25 through the real sync; silences are made through
alertui's silence service, as the silence form makes them.
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
    fire,
    group_named,
    links,
    parse_alerts,
    row,
    row_extras,
    sync,
    text,
)
from tests.servers import AlertmanagerProcess, make_alert, wait_until
from tests.test_alerts_page import INHIBIT_CONFIG
from tests.test_targets import sync_from

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]


def silence(user, tag: str, alertname: str, comment: str, hours: float = 2):
    now = timezone.now()
    matchers = (Matcher("test", "=", tag), Matcher("alertname", "=", alertname))
    return create_silence(
        Actor(user), SilenceValues(matchers, now, now + timedelta(hours=hours), comment)
    )


def fingerprint(tag: str, alertname: str, **labels) -> str:
    return next(
        a.fingerprint
        for a in Alert.objects.filter(alertname=alertname)
        if a.labels.get("test") == tag and all(a.labels.get(k) == v for k, v in labels.items())
    )


def test_a_silenced_row_says_who_why_and_how_long_with_extend_and_expire(
    am, silencer, silencer_client, tag
):
    fire(am, tag, ({"alertname": "Muted"}, None), ({"alertname": "Loud"}, None))
    made = silence(silencer, tag, "Muted", "api redeploy, ticket OPS-12", hours=2)
    sync()

    page = alerts_page(silencer_client, tag, state=["active", "silenced"])
    muted = fingerprint(tag, "Muted")
    extras = row_extras(page, muted)
    assert re.fullmatch(
        r"Silenced by alice, 1h 59m left \(until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\): "
        r"“?api redeploy, ticket OPS-12”?\s*Extend \+1h Expire…",
        extras,
    ), extras
    html = row(page, muted)
    assert f'action="/silences/{made.id}/extend/"' in html
    assert '<input type="hidden" name="by" value="1h">' in html
    assert (f"/silences/{made.id}/expire/", "Expire…") in links(html)
    # The active alert's row has none of it.
    assert row_extras(page, fingerprint(tag, "Loud")) == ""


def test_a_viewer_sees_who_silenced_but_no_extend_or_expire(am, silencer, viewer_client, tag):
    fire(am, tag, ({"alertname": "Muted"}, None))
    silence(silencer, tag, "Muted", "disk swap")
    sync()
    page = alerts_page(viewer_client, tag, state="silenced")
    extras = row_extras(page, fingerprint(tag, "Muted"))
    assert extras.startswith("Silenced by alice, ") and "disk swap" in extras
    assert "Extend" not in extras and "Expire" not in extras


def test_a_silence_alertui_has_not_read_yet_is_said_to_be_so(am, silencer_client, tag):
    fire(am, tag, ({"alertname": "Muted"}, None))
    muted = fingerprint(tag, "Muted")
    # As between Alertmanager muting the alert and the next silence sync: an id with no copy.
    Alert.objects.filter(fingerprint=muted).update(
        silenced_by=["0f0e0d0c-aaaa-bbbb-cccc-000000000001"]
    )
    from tests.snapshots import publish_snapshot

    publish_snapshot()
    extras = row_extras(alerts_page(silencer_client, tag, state="silenced"), muted)
    assert extras == (
        "Silenced by silence 0f0e0d0c…, which alertui has not read from Alertmanager yet."
    )


def test_silence_group_is_offered_only_while_something_in_the_group_is_not_silenced(
    am, silencer, silencer_client, tag
):
    fire(
        am,
        tag,
        ({"alertname": "Pair", "instance": "a"}, None),
        ({"alertname": "Pair", "instance": "b"}, None),
    )
    states = ["active", "silenced"]
    assert group_named(alerts_page(silencer_client, tag, state=states), "Pair").link(
        "Silence group"
    )
    silence(silencer, tag, "Pair", "both down for maintenance")
    sync()
    pair = group_named(alerts_page(silencer_client, tag, state=states), "Pair")
    assert len(pair.alerts) == 2 and pair.link("Silence group") is None


def test_rows_of_a_group_are_in_severity_order(am, silencer_client, tag):
    fire(
        am,
        tag,
        *(
            ({"alertname": "Mixed", "severity": sev, "instance": sev}, None)
            for sev in ("info", "warning", "critical", "error")
        ),
    )
    group = group_named(alerts_page(silencer_client, tag), "Mixed")
    shown = [re.search(r'sev-(\w+)"', a.html)[1] for a in group.alerts]
    assert shown == ["critical", "error", "warning", "info"]


def test_an_inhibited_row_names_the_inhibiting_alert(
    settings, redis_db, tmp_path, silencer_client, tag
):
    with AlertmanagerProcess("0.25", tmp_path, config=INHIBIT_CONFIG) as own:
        settings.ALERTMANAGER_URLS = [own.url]
        own.push_alerts(
            [
                make_alert(
                    {"alertname": "ClusterDown", "role": "source", "zone": "eu1", "test": tag}
                ),
                make_alert({"alertname": "PodDown", "role": "target", "test": tag}),
            ]
        )

        def inhibited() -> bool:
            response = requests.get(f"{own.url}/api/v2/alerts", timeout=5)
            response.raise_for_status()
            return any(a["status"]["inhibitedBy"] for a in response.json())

        wait_until(inhibited, 10, "Alertmanager to inhibit PodDown")
        sync()

    page = alerts_page(silencer_client, tag, state="inhibited")
    pod = fingerprint(tag, "PodDown")
    source = fingerprint(tag, "ClusterDown")
    assert row_extras(page, pod) == (
        f'Inhibited by ClusterDown role="source" test="{tag}" zone="eu1" '
        "inhibiting alert's history"
    )
    assert (f"/alerts/{source}/history/", "inhibiting alert's history") in links(row(page, pod))

    # The inhibiting alert resolved meanwhile: the row says the alert is not in the picture.
    Alert.objects.filter(fingerprint=source).delete()
    from tests.snapshots import publish_snapshot

    publish_snapshot()
    page = alerts_page(silencer_client, tag, state="inhibited")
    assert row_extras(page, pod) == (
        "Inhibited by an alert that is not among the current alerts alertui read "
        f"(fingerprint {source}): it may have resolved a moment ago, "
        "or be held by another Alertmanager."
    )


# -- the row itself: runbook, start time, headline, expression, receivers, label chips -------


def test_the_collapsed_row_carries_a_runbook_only_for_an_http_url(am, silencer_client, tag):
    fire(
        am,
        tag,
        ({"alertname": "WithUrl"}, {"runbook_url": "https://runbooks.test/with-url"}),
        ({"alertname": "Plain"}, {"runbook": "http://wiki.test/plain"}),
        ({"alertname": "Hostile"}, {"runbook_url": "javascript:alert(1)"}),
        ({"alertname": "None"}, {"summary": "no runbook"}),
    )
    page = alerts_page(silencer_client, tag)

    def runbook(name):
        html = row(page, fingerprint(tag, name))
        outside = html.split("</details>", 1)[1]  # shown without opening the alert
        return [href for href, t in links(outside) if t == "Runbook"]

    assert runbook("WithUrl") == ["https://runbooks.test/with-url"]
    assert runbook("Plain") == ["http://wiki.test/plain"]
    assert runbook("Hostile") == [] and runbook("None") == []
    assert "javascript:" not in " ".join(h for h, _ in links(page))


def test_the_row_gives_the_start_time_and_the_description_without_a_summary(
    am, silencer_client, tag
):
    fire(am, tag, ({"alertname": "Described"}, {"description": "Only a description here"}))
    page = alerts_page(silencer_client, tag)
    [alert] = parse_alerts(page)
    summary = alert.html.split("</summary>")[0]
    assert '<span class="summary">Only a description here</span>' in summary
    started = Alert.objects.get(fingerprint=alert.fingerprint).starts_at
    # Absolute, in UTC from the server; the browser shows it in the viewer's zone.
    assert (
        f'since <time data-compact datetime="{started.isoformat()}">'
        f"{started:%Y-%m-%d %H:%M:%S} UTC</time>"
    ) in summary


def test_the_details_give_the_receivers_and_say_the_expression_is_unknown_without_rules(
    am, silencer_client, settings, tag
):
    settings.PROMETHEUS_URLS = []
    fire(am, tag, ({"alertname": "Pushed"}, None))
    [alert] = parse_alerts(alerts_page(silencer_client, tag))
    shown = text(alert.html)
    assert "Receivers null" in shown  # tests.servers.MINIMAL_CONFIG's one receiver
    assert "Expression Unknown: alertui reads no Prometheus rules" in shown


def test_the_details_give_the_expression_of_the_rule_from_prometheus(
    prometheus_242, am, settings, silencer_client
):
    assert not sync_from(settings, prometheus_242.url).errors
    wait_until(
        lambda: sync().error == "" and Alert.objects.filter(alertname="TargetDown").exists(),
        30,
        "Prometheus's TargetDown alert in the snapshot",
    )
    page = silencer_client.get("/alerts/", {"q": 'alertname="TargetDown"'}).content.decode()
    alert = parse_alerts(page)[0]
    assert '<pre class="expr"><code>up == 0</code></pre>' in alert.html
    # An alert no rule fires (pushed by hand) says so.
    page = silencer_client.get("/alerts/", {"q": 'alertname="NoSuchRule"'}).content.decode()
    assert "No alerts match" in text(page)


def test_label_chips_filter_by_their_label_and_colour_chosen_labels_stably(
    am, silencer_client, settings, tag
):
    settings.ALERTS_LABEL_COLORS = ["namespace"]
    fire(
        am,
        tag,
        ({"alertname": "One", "namespace": "shop", "pod": 'we"ird'}, None),
        ({"alertname": "Two", "namespace": "shop"}, None),
    )
    page = alerts_page(silencer_client, tag)
    one, two = (row(page, fingerprint(tag, n)) for n in ("One", "Two"))
    chip = re.compile(r'<a class="chip ([^"]*)" href="([^"]*)" data-filter="([^"]*)"')
    chips = {html.unescape(m[3]): (m[1], html.unescape(m[2])) for m in chip.finditer(one)}
    assert chips['pod="we\\"ird"'] == ("", "?q=pod%3D%22we%5C%22ird%22")
    hue = chips['namespace="shop"'][0]
    assert re.fullmatch(r"hue-\d", hue)
    assert f'<a class="chip {hue}" href="?q=namespace%3D%22shop%22"' in two  # same colour
    # The link filters by exactly that label (the script adds it to the filter instead).
    filtered = silencer_client.get("/alerts/" + chips['pod="we\\"ird"'][1]).content.decode()
    assert [a.name for a in parse_alerts(filtered)] == ["One"]
