"""For tests that write alert rows by hand: publish them as a new snapshot version, as the sync
does after writing its rows (alertui.sync.health)."""

from django.db import transaction

from alertui.sync import health


def publish_snapshot() -> None:
    with transaction.atomic():
        health.publish(health.locked_snapshot())
