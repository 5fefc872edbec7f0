"""The nav's counters: firing alerts and failing scrape targets.

Counted by the writer, in the transaction that changed the rows (the alert sync, a silence
applied to the snapshot, the targets sync), and read on every page and poll with one query.
The firing count carries the alert snapshot's version: a count of any other version (a
writer that did not recount, a database restored) is not shown, the rows are counted instead.
"""

from __future__ import annotations

from django.db import transaction

from alertui.nav.models import NavCount

FIRING = "firing_alerts"
FAILING_TARGETS = "failing_targets"


def _firing_now() -> int:
    from alertui.alerts.models import Alert

    return Alert.objects.filter(is_silenced=False, is_inhibited=False).count()


def _failing_targets_now() -> int:
    from alertui.targets.models import FailingTarget

    return FailingTarget.objects.count()


def alerts_changed(version: int) -> None:
    """The alerts table is now at snapshot `version`: count its firing alerts. Called inside
    the transaction that changed it, which holds the snapshot's row lock (writers one at a
    time, so each count sees the rows of the writers before it)."""
    NavCount.objects.update_or_create(
        name=FIRING, defaults={"value": _firing_now(), "version": version}
    )


def targets_changed() -> None:
    """The failing targets changed: count them. Inside the writer's transaction; the count
    row is locked before counting, so two clusters' syncs at once count one after the other
    (each sees the other's committed rows) and the later count is the one kept."""
    with transaction.atomic():
        row, _ = NavCount.objects.get_or_create(name=FAILING_TARGETS)
        row = NavCount.objects.select_for_update().get(pk=row.pk)
        row.value = _failing_targets_now()
        row.version += 1
        row.save(update_fields=["value", "version"])


def current(snapshot_version: int | None) -> dict[str, int]:
    """{"firing_alerts": n, "failing_targets": n} for the nav, `snapshot_version` being the
    alert snapshot's version now (None: never synced)."""
    stored = {name: (value, version) for name, value, version in _rows()}
    firing = stored.get(FIRING)
    targets = stored.get(FAILING_TARGETS)
    return {
        FIRING: firing[0] if firing and firing[1] == snapshot_version else _firing_now(),
        FAILING_TARGETS: targets[0] if targets else _failing_targets_now(),
    }


def _rows():
    return NavCount.objects.values_list("name", "value", "version")
