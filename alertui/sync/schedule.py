"""The beat schedule, built from the kinds of sync and the configured clusters: one entry per
kind and cluster. Read by settings (so it imports no app code)."""

from alertui.sync.registry import KINDS


def beat_schedule(cluster_names: list[str], intervals: dict[str, int], prune: int) -> dict:
    """`intervals`: each kind's interval setting (name: seconds)."""
    schedule = {}
    for cluster in cluster_names:
        for kind in KINDS:
            every = intervals[kind.interval_setting]
            schedule[f"sync-{kind.name}-{cluster}"] = {
                "task": "alertui.sync.tasks.sync_source",
                "schedule": every,
                "args": (kind.name, cluster),
                # A run not started within its period is dropped: the next one comes.
                "options": {"expires": max(1, every - 1)},
            }
    schedule["prune-history"] = {
        "task": "alertui.sync.tasks.prune_history",
        "schedule": prune,
        "options": {"expires": max(1, prune - 1)},
    }
    return schedule
