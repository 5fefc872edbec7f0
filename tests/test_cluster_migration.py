"""Upgrading a single-cluster install: every row today's code made belongs to the one cluster
after `migrate` (CLUSTER_NAME, "default" unless set), the alerts snapshot included, and the
audit stays append-only. Runs on SQLite and on PostgreSQL (DATABASE_URL)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from alertui.alerts.models import Alert, AlertHistory
from alertui.audit.models import AuditEvent, PendingChange
from alertui.silences.models import Silence
from alertui.targets.models import FailingTarget, RuleFailure, ScrapePool, TargetHistory

# The last migrations before there were clusters.
BEFORE_CLUSTERS = [
    ("alerts", "0007_source_note"),
    ("silences", "0002_created_by_any_length"),
    ("audit", "0006_append_only_sqlite_and_truncate"),
    ("targets", "0002_scrub_source_credentials"),
]
PER_CLUSTER = [
    Alert,
    AlertHistory,
    Silence,
    AuditEvent,
    PendingChange,
    FailingTarget,
    ScrapePool,
    TargetHistory,
    RuleFailure,
]


def make_rows_as_before(apps) -> None:
    """Rows as the code before clusters wrote them, through the models of that time."""
    now = timezone.now()
    model = apps.get_model
    for n in range(3):
        model("alerts", "Alert").objects.create(
            fingerprint=f"f{n}",
            alertname="DiskFull",
            labels={"alertname": "DiskFull", "n": str(n)},
            state="active",
            silenced_by=["s1"] if n == 0 else [],
            is_silenced=n == 0,
        )
    model("alerts", "AlertHistory").objects.create(
        fingerprint="f0", alertname="DiskFull", started_at=now - timedelta(hours=1)
    )
    model("silences", "Silence").objects.create(
        id="s1", matchers=[["n", "=", "0"]], starts_at=now, ends_at=now + timedelta(hours=2)
    )
    model("audit", "AuditEvent").objects.create(
        action="created", source="browser", actor_name="alice", silence_id="s1"
    )
    model("audit", "PendingChange").objects.create(
        action="expired", source="browser", actor_name="alice", silence_id="s1"
    )
    target = {"source": "http://prometheus:9090", "scrape_pool": "node"}
    model("targets", "FailingTarget").objects.create(
        **target, scrape_url="http://node:9100/metrics", health="down", failing_since=now
    )
    model("targets", "ScrapePool").objects.create(source=target["source"], name="node", up=1)
    model("targets", "TargetHistory").objects.create(
        **target, scrape_url="http://node:9100/metrics", down_at=now
    )
    model("targets", "RuleFailure").objects.create(
        source=target["source"], group="g", name="r", type="alerting", query="up", error="x"
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("cluster_name", ["default", "prod-eu"])
def test_rows_made_before_clusters_belong_to_the_one_cluster_after_migrate(settings, cluster_name):
    settings.CLUSTER_NAME = cluster_name
    try:
        call_command("migrate", "alerts", "0007", verbosity=0)
        for app, name in BEFORE_CLUSTERS[1:]:
            call_command("migrate", app, name, verbosity=0)
        before = MigrationExecutor(connection).loader.project_state(BEFORE_CLUSTERS).apps
        make_rows_as_before(before)

        call_command("migrate", verbosity=0)

        for model in PER_CLUSTER:
            clusters = set(model.objects.values_list("cluster", flat=True))
            assert clusters == {cluster_name}, model.__name__
        alerts = {a.fingerprint: a for a in Alert.objects.all()}
        assert sorted(alerts) == ["f0", "f1", "f2"]
        assert alerts["f0"].silenced_by == ["s1"] and alerts["f0"].is_silenced
        assert alerts["f2"].labels == {"alertname": "DiskFull", "n": "2"}
        assert AuditEvent.objects.get().action_id == ""
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM audit_auditevent")
    finally:
        call_command("migrate", verbosity=0)
