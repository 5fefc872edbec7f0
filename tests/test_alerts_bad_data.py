"""One bad alert from Alertmanager never breaks the alerts page: the sync keeps every alert it
can read, says on the page what it could not, and the page answers 200 with links only to
places that exist.

What a real Alertmanager accepts (huge label names and values, odd Unicode, a javascript:
generator URL, UTF-8 label names in 0.28+) is pushed to a real one. What it never sends
(it makes fingerprints and silence ids itself, and refuses malformed alerts) is served by a
stand-in, tests.standins.FixedAlertsServer.
"""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.utils import timezone

from alertui.alerts.models import Alert
from alertui.alerts.sync import sync_alerts
from alertui.integrations.alertmanager import format_time
from tests.alerts_page_reading import fire, links, parse_alerts, text
from tests.servers import AlertmanagerProcess, make_alert
from tests.snapshots import publish_snapshot
from tests.standins import FixedAlertsServer
from tests.test_failures import synced
from tests.test_security import inert_problems

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]

EVERY_STATE = {"state": ["active", "silenced", "inhibited"]}


def page_of(client, params=None) -> str:
    response = client.get("/alerts/", {**EVERY_STATE, **(params or {})})
    assert response.status_code == 200
    return response.content.decode()


def assert_links_work(client, page: str) -> None:
    """Every alert's history link opens, and no link could run script."""
    assert inert_problems(page) == []
    for href, label in links(page):
        if label == "History":
            assert client.get(href).status_code == 200, href


# -- what a real Alertmanager accepts ---------------------------------------------------------


def test_it_shows_huge_and_odd_alerts_from_alertmanager_on_a_bounded_page(am, silencer_client, tag):
    odd = "\u202eevil\u202c 🔥 e\u0301 \u2028 \ufeff \u200d \u3164 \U000e0041 \x7f"
    fire(
        am,
        tag,
        ({"alertname": "HugeValue", "blob": "v" * 200_000}, {"summary": "s" * 100_000}),
        ({"alertname": "HugeName", "n" * 20_000: "x"}, {"a" * 20_000: "annotation"}),
        ({"alertname": f"Odd{odd}", "odd": odd}, {"summary": odd}),
    )
    js = make_alert({"alertname": "Scripted", "test": tag})
    js["generatorURL"] = "javascript:alert(document.cookie)"
    am.push_alerts([js])
    assert synced(sync_alerts).error == ""

    page = page_of(silencer_client, {"q": f'test="{tag}"'})
    shown = sorted(a.name for a in parse_alerts(page))
    assert shown == ["HugeName", "HugeValue", f"Odd{odd}", "Scripted"]
    # Every name and value is clipped to a few hundred characters, in text and in links.
    assert len(page.encode()) < 40_000, f"{len(page.encode())} bytes"
    [scripted] = [a for a in parse_alerts(page) if a.name == "Scripted"]
    assert "Prometheus expression" not in scripted.html  # no link, rather than a script
    assert_links_work(silencer_client, page)
    for href, label in links(page):
        if label == "History":
            history = silencer_client.get(href).content
            assert len(history) < 40_000, f"{href}: {len(history)} bytes"


def test_it_shows_alerts_with_utf8_label_names_from_a_newer_alertmanager(
    settings, redis_db, tmp_path, silencer_client, tag
):
    with AlertmanagerProcess("0.33", tmp_path) as am:  # 0.25 refuses these names
        settings.ALERTMANAGER_URLS = [am.url]
        fire(am, tag, ({"alertname": "Dotted", "service.name": "checkout", "fooΣ": "x"}, None))
        page = page_of(silencer_client, {"group_by": "service.name"})
    assert [a.name for a in parse_alerts(page)] == ["Dotted"]
    assert 'service.name="checkout"' in text(page)
    assert_links_work(silencer_client, page)


# -- what only a stand-in can send ------------------------------------------------------------


def served(fingerprint: str, alertname: str) -> dict:
    """An alert as Alertmanager's GET /api/v2/alerts lists it."""
    now = timezone.now()
    return {
        "labels": {"alertname": alertname, "severity": "warning"},
        "annotations": {"summary": f"{alertname} is firing"},
        "fingerprint": fingerprint,
        "startsAt": format_time(now - timedelta(minutes=5)),
        "updatedAt": format_time(now),
        "endsAt": format_time(now + timedelta(hours=1)),
        "generatorURL": "http://prometheus.test/graph",
        "receivers": [{"name": "default"}],
        "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
    }


def sync_from(settings, alerts: list):
    """The result of a sync from a stand-in Alertmanager listing `alerts`."""
    alertmanager = FixedAlertsServer(alerts)
    settings.ALERTMANAGER_URLS = [alertmanager.url]
    try:
        return synced(sync_alerts)
    finally:
        alertmanager.stop()


def _set(path: str, value):
    def change(alert):
        *parents, last = path.split(".")
        target = alert
        for key in parents:
            target = target[key]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
        return alert

    return change


DELETE = object()
SKIPPED = "1 alert from Alertmanager could not be read and is not shown"
PARTLY = "1 alert from Alertmanager had values alertui could not use; those values are left out"

# (what is wrong with the alert, how, what the page says)
BAD_ALERTS = [
    ("an empty silence id", _set("status.silencedBy", [""]), PARTLY),
    ("a silence id with a slash", _set("status.silencedBy", ["a/b"]), PARTLY),
    ("silencedBy that is not a list", _set("status.silencedBy", "abc"), PARTLY),
    ("a fingerprint with a slash", _set("fingerprint", "ab/cd"), SKIPPED),
    ("no fingerprint", _set("fingerprint", DELETE), SKIPPED),
    ("an empty fingerprint", _set("fingerprint", ""), SKIPPED),
    ("a fingerprint that is a number", _set("fingerprint", 1234), SKIPPED),
    ("a fingerprint too long to store", _set("fingerprint", "f" * 100), SKIPPED),
    ("labels that are not an object", _set("labels", ["alertname", "Bad"]), SKIPPED),
    ("an alert that is not an object", lambda alert: "Bad", SKIPPED),
    ("a label value that is a number", _set("labels.count", 5), PARTLY),
    ("a label value that is null", _set("labels.count", None), PARTLY),
    ("a label value that is an object", _set("labels.count", {"a": [1]}), PARTLY),
    ("a lone surrogate in a label", _set("labels.odd", "\ud800x"), None),
    ("a lone surrogate in a label name", _set("labels.\udfff", "x"), None),
    ("annotations that are not an object", _set("annotations", "text"), PARTLY),
    ("a start time that does not parse", _set("startsAt", "yesterday"), PARTLY),
    ("a start time that is a number", _set("startsAt", 1700000000), PARTLY),
    ("an end time that does not parse", _set("endsAt", "2026-13-45T99:00:00Z"), PARTLY),
    ("an inhibitor with a slash", _set("status.inhibitedBy", ["../../admin"]), PARTLY),
    ("an unknown inhibitor", _set("status.inhibitedBy", ["00000000deadbeef"]), None),
    ("a javascript: generator URL", _set("generatorURL", "javascript:alert(1)"), PARTLY),
    ("a generator URL that is a number", _set("generatorURL", 5), PARTLY),
    ("an unknown state too long to store", _set("status.state", "x" * 100), PARTLY),
    ("a status that is not an object", _set("status", "active"), PARTLY),
    ("receivers that are not a list", _set("receivers", "default"), PARTLY),
]


@pytest.mark.parametrize(
    "change,note", [case[1:] for case in BAD_ALERTS], ids=[case[0] for case in BAD_ALERTS]
)
def test_one_bad_alert_leaves_the_others_and_the_page_working(
    change, note, settings, redis_db, silencer_client
):
    good = served("0123456789abcdef", "Good")
    bad = change(copy.deepcopy(served("fedcba9876543210", "Bad")))
    assert sync_from(settings, [good, bad, served("00000000000000aa", "AlsoGood")]).error == ""
    page = page_of(silencer_client)
    names = sorted(a.name for a in parse_alerts(page))
    if note == SKIPPED:
        assert names == ["AlsoGood", "Good"]
    else:
        assert names == ["AlsoGood", "Bad", "Good"]
    if note:
        assert note in text(page)
    else:
        assert "from Alertmanager" not in text(page)
    assert_links_work(silencer_client, page)
    for alert in Alert.objects.all():
        assert silencer_client.get(f"/alerts/{alert.fingerprint}/history/").status_code == 200


def test_it_counts_every_unreadable_alert_and_says_why(settings, redis_db, silencer_client):
    bad = [served(f"{n:016x}", f"Bad{n}") for n in range(3)]
    for alert in bad:
        del alert["fingerprint"]
    assert sync_from(settings, [served("0123456789abcdef", "Good"), *bad]).error == ""

    page = text(page_of(silencer_client))
    assert "3 alerts from Alertmanager could not be read and are not shown" in page
    assert "an alert without a fingerprint" in page


def test_the_note_goes_once_alertmanager_sends_only_good_alerts(
    settings, redis_db, silencer_client
):
    good = served("0123456789abcdef", "Good")
    for alerts in ([good, "Bad"], [good]):
        assert sync_from(settings, alerts).error == ""
        page = text(page_of(silencer_client))
        assert ("could not be read" in page) == (len(alerts) == 2)
        assert [a.name for a in parse_alerts(page_of(silencer_client))] == ["Good"]


def test_the_page_links_no_value_that_cannot_be_in_a_url(silencer_client):
    """Rows written before this fix, or by anything but the sync, may still hold such values."""
    Alert.objects.create(
        fingerprint="ab/cd",
        alertname="Stored",
        labels={"alertname": "Stored"},
        state="active",
        silenced_by=["", "x/y"],
        inhibited_by=["", "../a"],
    )
    publish_snapshot()
    page = page_of(silencer_client)
    assert [a.name for a in parse_alerts(page)] == ["Stored"]
    assert_links_work(silencer_client, page)
