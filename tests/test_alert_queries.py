"""Other features read the current alerts through one read model (alertui.alerts.queries over the
snapshot): the silence preview and the silences list's "mutes N alerts" never scan the alert
table per request, and what they show follows the next sync, never an older snapshot.

Alert rows are written by hand and published as a new snapshot version, as the sync does.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alertui.alerts import queries
from alertui.alerts.models import Alert
from alertui.matchers import Matcher
from tests.snapshots import publish_snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]


def fire(tag, n, *, cluster="default", silenced_by=(), minutes_ago=0, team="payments"):
    now = timezone.now()
    Alert.objects.bulk_create(
        [
            Alert(
                cluster=cluster,
                fingerprint=f"{tag}-{cluster}-{minutes_ago}-{i}",
                alertname="HighLatency",
                severity="warning",
                labels={"alertname": "HighLatency", "test": tag, "team": team, "n": str(i)},
                annotations={},
                state="suppressed" if silenced_by else "active",
                silenced_by=list(silenced_by),
                starts_at=now - timedelta(minutes=minutes_ago, seconds=i),
            )
            for i in range(n)
        ]
    )
    publish_snapshot()


def test_the_muted_counts_follow_each_new_snapshot(tag):
    fire(tag, 3, silenced_by=["s-one"])
    fire(f"{tag}b", 2, silenced_by=["s-one", "s-two"])
    assert queries.muted_counts()["s-one"] == 5
    assert queries.muted_counts()["s-two"] == 2

    Alert.objects.filter(labels__test=f"{tag}b").delete()
    publish_snapshot()
    assert queries.muted_counts()["s-one"] == 3  # the older count did not survive
    assert "s-two" not in queries.muted_counts()


def test_matching_lists_the_newest_first_per_cluster_and_within_its_limit(tag):
    fire(tag, 4, minutes_ago=30)
    fire(tag, 2, cluster="staging", minutes_ago=1)
    matchers = [Matcher("test", "=", tag)]

    shown, per_cluster = queries.matching(matchers, limit=3)
    assert per_cluster == {"default": 4, "staging": 2}
    assert [a.cluster for a in shown] == ["staging", "staging", "default"]
    shown, per_cluster = queries.matching(matchers, cluster="default")
    assert per_cluster == {"default": 4} and len(shown) == 4
    assert queries.matching([Matcher("team", "=", "other")]) == ([], {})


def test_the_preview_and_the_silences_list_read_no_alert_rows(tag, silencer_client):
    fire(tag, 20, team="payments")
    silencer_client.get("/alerts/")  # the snapshot is loaded (a worker does it as it starts)

    with CaptureQueriesContext(connection) as seen:
        preview = silencer_client.get(
            "/silences/preview/",
            {"matcher_name": ["test"], "matcher_op": ["="], "matcher_value": [tag]},
        )
        silencer_client.get("/silences/")
    assert preview.status_code == 200
    assert "<strong>20</strong> current alerts would be silenced" in preview.content.decode()
    assert not [q["sql"] for q in seen.captured_queries if "alerts_alert" in q["sql"]]

    fire(tag, 5, team="payments", minutes_ago=5)  # the next sync: the preview follows it
    preview = silencer_client.get(
        "/silences/preview/",
        {"matcher_name": ["test"], "matcher_op": ["="], "matcher_value": [tag]},
    )
    assert "<strong>25</strong> current alerts would be silenced" in preview.content.decode()
