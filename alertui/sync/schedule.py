"""The beat schedule, built from the kinds of sync and the configured clusters: one entry per
kind and cluster. Read by settings (so it imports no app code)."""

from alertui.sync.registry import KINDS

STALE_POLICY_EVERY = 300  # seconds


def sync_time_limits(clusters, am_timeout: int, prom_timeout: int) -> dict[str, int]:
    """Each cluster's (name, peers, Prometheus servers): the seconds its sync task may run,
    as long as its lock lasts."""
    from alertui.clients import sync_bound_of
    from alertui.locks import lock_timeout_for

    return {
        name: lock_timeout_for(sync_bound_of(peers, servers, am_timeout, prom_timeout))
        for name, peers, servers in clusters
    }


def beat_schedule(time_limits: dict[str, int], intervals: dict[str, int], prune: int) -> dict:
    """`time_limits`: each cluster's name and the seconds its sync task may run (as long as
    its lock lasts: alertui.locks.lock_timeout_for); `intervals`: each kind's interval
    setting (name: seconds)."""
    schedule = {}
    for cluster, time_limit in time_limits.items():
        for kind in KINDS:
            every = intervals[kind.interval_setting]
            schedule[f"sync-{kind.name}-{cluster}"] = {
                "task": "alertui.sync.tasks.sync_source",
                "schedule": every,
                "args": (kind.name, cluster),
                # A run not started within its period is dropped: the next one comes. One
                # that outlives its lock is ended by the worker (prefork pool).
                "options": {"expires": max(1, every - 1), "time_limit": time_limit},
            }
    schedule["prune-history"] = {
        "task": "alertui.sync.tasks.prune_history",
        "schedule": prune,
        "options": {"expires": max(1, prune - 1)},
    }
    # The stale-silence policy (alertui.stale_silences): a run does nothing while
    # SILENCE_STALE_EXPIRE_HOURS is 0, its default.
    schedule["expire-stale-silences"] = {
        "task": "alertui.stale_silences.tasks.expire_stale_silences",
        "schedule": STALE_POLICY_EVERY,
        "options": {"expires": STALE_POLICY_EVERY - 1},
    }
    return schedule
