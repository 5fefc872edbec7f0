"""Child task "sync": the sync functions beside the raw fetches they cannot beat, interleaved
rep by rep; then re-sends and real churn. Imported only after django.setup()."""

from __future__ import annotations

import cProfile
import json
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from django.db import connection

from alertui.alerts import snapshot
from alertui.alerts.sync import sync_alerts
from alertui.integrations import values
from alertui.silences.sync import sync_silences
from alertui.targets.sync import sync_targets

from .alertmanager_data import alert_count, am_time, post_alerts, with_fresh_ends
from .config import HTTP_TIMEOUT, BenchError
from .measure import QueryCounter, full_snapshot_load, profile_text, stats_ms
from .processes import wait_until
from .procfs import rusage_mb

SAMPLES = (
    "raw_fetch",
    "raw_fetch_parse",
    "raw_fetch_fast_parse",
    "raw_all",
    "silences",
    "alerts",
    "targets",
    "total",
    "total_cpu",
)


class RawFetches:
    """What any client pays to read Alertmanager and Prometheus: the reference for the sync."""

    def __init__(self, ams: list[str], prom: str, alerts: int):
        self.session = requests.Session()
        self.ams = ams
        self.am = ams[0]  # re-sends and churn go to the first cluster
        self.alerts = alerts  # per Alertmanager
        # What each cluster's sync reads: its Alertmanager, and here the same Prometheus.
        self.sources = [
            url
            for am in ams
            for url in (
                f"{am}/api/v2/silences",
                f"{am}/api/v2/alerts?active=true&silenced=true&inhibited=true",
                f"{prom}/api/v1/targets?state=active",
                f"{prom}/api/v1/scrape_pools",
                f"{prom}/api/v1/rules",
            )
        ]

    def alerts_fetch(self) -> tuple[float, float, float, int]:
        """GET /api/v2/alerts of every Alertmanager: seconds to fetch, to fetch and parse with
        json, to fetch and parse as the sync reads answers (values.loads: orjson, the
        collector paused), bytes."""
        fetch = parse = fast = 0.0
        size = 0
        for am in self.ams:
            t0 = time.perf_counter()
            r = self.session.get(f"{am}/api/v2/alerts", timeout=HTTP_TIMEOUT)
            body = r.content
            t1 = time.perf_counter()
            data = json.loads(body)
            t2 = time.perf_counter()
            values.loads(body)
            t3 = time.perf_counter()
            if r.status_code != 200 or len(data) != self.alerts:
                raise BenchError(
                    f"GET /api/v2/alerts: {r.status_code}, {len(data)} alerts, not {self.alerts}"
                )
            fetch += t1 - t0
            parse += t2 - t0
            fast += (t1 - t0) + (t3 - t2)
            size += len(body)
        return fetch, parse, fast, size

    def all_fetch(self) -> tuple[float, int]:
        """Fetch and parse the 5 endpoints one sync cycle reads: seconds, bytes."""
        t0 = time.perf_counter()
        size = 0
        for url in self.sources:
            r = self.session.get(url, timeout=HTTP_TIMEOUT)
            r.raise_for_status()
            json.loads(r.content)
            size += len(r.content)
        return time.perf_counter() - t0, size


PHASES = (("silences", sync_silences), ("alerts", sync_alerts), ("targets", sync_targets))


def cycle(clusters: list[str]) -> tuple[dict, dict]:
    """One sync cycle as `manage.py sync` runs it (each kind, each cluster), each phase timed;
    the results of the first cluster; BenchError if one failed."""
    results, times = {}, {}
    c0 = time.process_time()
    t0 = time.perf_counter()
    for name, function in PHASES:
        started = time.perf_counter()
        for cluster in clusters:
            res = function(cluster=cluster)
            if res.skipped:
                raise BenchError(f"sync_{name} skipped: another run holds its Redis lock")
            error = getattr(res, "error", "") or "; ".join(getattr(res, "errors", []) or [])
            if error:
                raise BenchError(f"sync_{name} of {cluster} failed: {error}")
            results.setdefault(name, res)
        times[name] = time.perf_counter() - started
    times["total"] = time.perf_counter() - t0
    times["total_cpu"] = time.process_time() - c0
    return times, results


def measure_sync(spec: dict) -> dict:
    """Raw fetch-and-parse vs. the sync functions, interleaved rep by rep, plus RSS."""
    payload = json.loads(Path(spec["alerts_file"]).read_text())
    am, n = spec["am_url"], spec["alerts"]
    clusters = [name for name, _url in spec["clusters"]]
    raw = RawFetches([url for _name, url in spec["clusters"]], spec["prom_url"], n)
    out: dict = {"rss_mb": {"after_setup": rusage_mb()}}
    for _ in range(spec["warmup"]):
        raw.alerts_fetch()
        raw.all_fetch()
    times, results = cycle(clusters)
    s, a, t = results["silences"], results["alerts"], results["targets"]
    out["first"] = {
        "seconds": times,
        "silences_seen": s.seen,
        "audit_recorded": len(s.recorded),
        "alerts_added": a.added,
        "targets_failing": t.failing,
        "targets_went_down": t.went_down,
    }
    out["rss_mb"]["after_first_sync"] = rusage_mb()
    for _ in range(spec["warmup"]):
        cycle(clusters)
    out.update(_steady(raw, spec["reps"], clusters))
    out["rss_mb"]["after_steady"] = rusage_mb()

    # Not timed: queries per phase, and a profile of one steady cycle.
    queries = {}
    for name, fn in (
        ("silences", sync_silences),
        ("alerts", sync_alerts),
        ("targets", sync_targets),
    ):
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            fn()
        queries[name] = counter.count
    out["steady_queries"] = queries
    profile = cProfile.Profile()
    profile.enable()
    cycle(clusters)
    profile.disable()
    out["steady_profile"] = profile_text(profile, "cumulative", 35)

    out["resend"] = _resend(am, payload, spec["resend_reps"])
    out["rss_mb"]["after_resend"] = rusage_mb()
    out["churn"] = _churn(raw, payload, spec["churn_reps"])
    return out


def _steady(raw: RawFetches, reps: int, clusters: list[str]) -> dict:
    """`reps` steady cycles (nothing changed), each right after the raw fetches."""
    samples: dict[str, list[float]] = {k: [] for k in SAMPLES}
    steady_changes = Counter()
    for _ in range(reps):
        fetch, fetch_parse, fetch_fast_parse, size = raw.alerts_fetch()
        samples["raw_fetch"].append(fetch)
        samples["raw_fetch_parse"].append(fetch_parse)
        samples["raw_fetch_fast_parse"].append(fetch_fast_parse)
        raw_all_seconds, raw_all_size = raw.all_fetch()
        samples["raw_all"].append(raw_all_seconds)
        times, results = cycle(clusters)
        for key in ("silences", "alerts", "targets", "total", "total_cpu"):
            samples[key].append(times[key])
        steady_changes["audit_recorded"] += len(results["silences"].recorded)
        steady_changes["alerts_added"] += results["alerts"].added
        steady_changes["alerts_changed"] += results["alerts"].changed
        steady_changes["alerts_removed"] += results["alerts"].removed
    return {
        "raw_alerts_bytes": size,
        "raw_all_bytes": raw_all_size,
        "steady": {k: stats_ms(v) for k, v in samples.items()},
        "steady_changes": dict(steady_changes),
    }


def _resend(am: str, payload: list[dict], reps: int) -> dict:
    """Prometheus re-sends every firing alert each minute (new endsAt, so Alertmanager moves
    updatedAt): the sync that follows, and a cold web process's full snapshot load."""
    resend: dict[str, list[float]] = {"sync_alerts": [], "snapshot_reload": []}
    changed = []
    for _ in range(reps):
        post_alerts(am, with_fresh_ends(payload))
        t0 = time.perf_counter()
        res = sync_alerts()
        resend["sync_alerts"].append(time.perf_counter() - t0)
        changed.append(res.changed)
        resend["snapshot_reload"].append(full_snapshot_load())
    return {**{k: stats_ms(v) for k, v in resend.items()}, "changed": changed}


def _churn(raw: RawFetches, payload: list[dict], reps: int) -> dict:
    """Real churn: 1 % of the alerts resolve, then fire again; after each, the sync and the
    snapshot update of a warm web process (this process's snapshot is loaded by _resend)."""
    n = raw.alerts
    k = max(1, len(payload) // 100)
    rng = random.Random(n)
    churn: dict[str, list] = {"sync_alerts": [], "snapshot_update": [], "changes": []}
    for _ in range(reps):
        subset = rng.sample(payload, k)
        past = am_time(datetime.now(UTC) - timedelta(seconds=1))
        resolved = [{**a, "endsAt": past} for a in subset]
        for batch, expected in ((resolved, n - k), (with_fresh_ends(subset), n)):
            post_alerts(raw.am, batch)
            wait_until(
                lambda e=expected: alert_count(raw.am, raw.session) == e,
                30,
                f"Alertmanager to list {expected}",
            )
            t0 = time.perf_counter()
            res = sync_alerts()
            churn["sync_alerts"].append(time.perf_counter() - t0)
            churn["changes"].append(f"+{res.added} ~{res.changed} -{res.removed}")
            t0 = time.perf_counter()
            snapshot.current_alerts()
            churn["snapshot_update"].append(time.perf_counter() - t0)
    return {
        "alerts": k,
        "sync_alerts": stats_ms(churn["sync_alerts"]),
        "snapshot_update": stats_ms(churn["snapshot_update"]),
        "changes": churn["changes"],
    }
