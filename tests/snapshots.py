"""For tests that write alert rows by hand: publish them as a new snapshot version and recount
the nav counters, as the sync does after writing its rows (alertui.alerts.sync)."""

from django.db import transaction

from alertui.nav import counts as nav_counts
from alertui.sync import health


def publish_snapshot() -> None:
    with transaction.atomic():
        snapshot = health.locked_snapshot()
        health.publish(snapshot)
        nav_counts.alerts_changed(snapshot.version)
