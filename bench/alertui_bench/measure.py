"""The measuring instruments: percentiles of timings, a query counter, cProfile text, and the
forced snapshot load."""

from __future__ import annotations

import cProfile
import io
import math
import pstats
import time


def percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    f = math.floor(k)
    c = min(f + 1, len(s) - 1)
    return s[f] + (s[c] - s[f]) * (k - f)


def stats_ms(seconds: list[float]) -> dict:
    ms = [v * 1000 for v in seconds]
    return {
        "n": len(ms),
        "p50": percentile(ms, 50),
        "p90": percentile(ms, 90),
        "p99": percentile(ms, 99),
        "min": min(ms) if ms else None,
        "max": max(ms) if ms else None,
        "mean": sum(ms) / len(ms) if ms else None,
    }


class QueryCounter:
    """Counts the queries run through it, and times each (wall time as seen by Django)."""

    def __init__(self):
        self.count = 0
        self.log: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.log.append((time.perf_counter() - t0, " ".join(sql.split())))


def profile_text(profile: cProfile.Profile, sort: str, limit: int) -> str:
    buf = io.StringIO()
    stats = pstats.Stats(profile, stream=buf)
    stats.strip_dirs().sort_stats(sort).print_stats(limit)
    text = buf.getvalue()
    # Drop pstats' header lines before the table.
    start = text.find("   ncalls")
    return text[start:] if start >= 0 else text


def full_snapshot_load() -> float:
    """Seconds to build the web snapshot from all alert rows with its cache emptied: what a web
    worker pays on its first request after it starts. Only after django.setup()."""
    from alertui.alerts import snapshot

    snapshot._cache = (object(), [])
    t0 = time.perf_counter()
    snapshot.current_alerts()
    return time.perf_counter() - t0
