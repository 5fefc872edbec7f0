"""Sync cost per cluster, and the alerts page, with several clusters of 10,000 alerts each.

    .venv/bin/python bench/clusters.py [--alerts 10000] [--reps 5] [--out bench/results/NAME.md]

Starts three real Alertmanagers 0.25 (tests/servers.py), loads each with its own N firing
alerts (bench/alertui_bench/alertmanager_data.py, a different seed per cluster), then, on a
fresh SQLite database in a temporary folder:

1. with 1 cluster configured, then with 3: the first sync of each cluster's alerts (the
   snapshot empty: N rows written), then `--reps` steady syncs (nothing changed) per cluster;
2. with 3 clusters: GET /alerts/ (the default view) and the same filtered to one cluster
   (`@cluster="c1"`), first after the sync (caches cold) and then `--reps` times (warm).

The machine's load average is recorded before and after, beside the timings: a loaded machine
(other work on its two cores) makes every number larger.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

NAMES = ("c1", "c2", "c3")


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def summary(samples: list[float]) -> dict:
    return {
        "median_ms": round(statistics.median(samples) * 1000, 1),
        "max_ms": round(max(samples) * 1000, 1),
        "n": len(samples),
    }


def start_clusters(tmp: Path, alerts: int) -> list:
    from alertui_bench.alertmanager_data import make_alerts, post_alerts

    from tests.servers import AlertmanagerProcess

    started = []
    for index, name in enumerate(NAMES):
        am = AlertmanagerProcess("0.25", tmp / name).start()
        started.append(am)
        post_alerts(am.url, make_alerts(alerts, seed=index + 1))
    return started


def configure(tmp: Path, urls: dict[str, str]) -> None:
    clusters = tmp / "clusters.yaml"
    lines = ["clusters:"]
    for name, url in urls.items():
        lines += [f"  - name: {name}", f"    alertmanagers: [{url}]"]
    clusters.write_text("\n".join(lines) + "\n")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="alertui.settings",
        DEBUG="true",
        SECRET_KEY="bench-only",
        SECURE_COOKIES="false",
        SQLITE_PATH=str(tmp / "bench.sqlite3"),
        CLUSTERS_FILE=str(clusters),
        REDIS_URL="redis://127.0.0.1:6379/14",
        LOCK_PREFIX=f"alertui-bench-clusters-{uuid.uuid4().hex[:8]}",
        LOG_LEVEL="WARNING",
    )


def measure_syncs(settings, clusters_of, names: tuple[str, ...], reps: int) -> dict:
    from alertui.alerts.models import Alert
    from alertui.alerts.sync import sync_alerts

    settings.CLUSTERS = [c for c in clusters_of if c.name in names]
    Alert.objects.all().delete()
    first, steady = {}, {}
    for name in names:
        result = None

        def run(name=name):
            nonlocal result
            result = sync_alerts(cluster=name)

        first[name] = round(timed(run), 3)
        assert not result.error and not result.skipped, result
    for name in names:
        steady[name] = summary([timed(lambda n=name: sync_alerts(cluster=n)) for _ in range(reps)])
    return {"clusters": len(names), "first_sync_s": first, "steady_sync": steady}


def measure_page(reps: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(username="bench")
    client = Client()
    client.force_login(user)
    out = {}
    for label, params in (("default view", {}), ("one cluster", {"q": '@cluster="c1"'})):
        cold = timed(lambda p=params: client.get("/alerts/", p))
        warm = [timed(lambda p=params: client.get("/alerts/", p)) for _ in range(reps)]
        response = client.get("/alerts/", params)
        assert response.status_code == 200, response.status_code
        out[label] = {"cold_s": round(cold, 3), "warm": summary(warm)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("ALERTUI_BIN_CACHE", str(Path.home() / ".cache/alertui/bin"))
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="alertui-bench-clusters-") as tmpdir:
        tmp = Path(tmpdir)
        servers = start_clusters(tmp, args.alerts)
        try:
            configure(tmp, {name: am.url for name, am in zip(NAMES, servers, strict=True)})
            import django

            django.setup()
            from django.conf import settings
            from django.core.management import call_command
            from django.test.utils import override_settings

            from alertui import clusters

            call_command("migrate", verbosity=0)
            every = clusters.configured()
            with override_settings(ALLOWED_HOSTS=["testserver"]):
                one = measure_syncs(settings, every, NAMES[:1], args.reps)
                three = measure_syncs(settings, every, NAMES, args.reps)
                page = measure_page(args.reps)
        finally:
            for am in servers:
                am.stop()
    results = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "alerts_per_cluster": args.alerts,
        "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "sync": [one, three],
        "alerts_page_3_clusters": page,
    }
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.with_suffix(".json").write_text(text + "\n")
        args.out.write_text(render(results))


def render(r: dict) -> str:
    lines = [
        f"# Clusters: sync per cluster and the alerts page, {r['alerts_per_cluster']:,} alerts "
        "per cluster",
        "",
        f"Run {r['at']} by `bench/clusters.py`, SQLite, Alertmanager 0.25, {r['cpus']} CPUs. "
        f"Load average (1, 5, 15 min) before: {r['load_before']}, after: {r['load_after']} "
        "(other work shared the machine; the numbers include it).",
        "",
        "| clusters | cluster | first sync (s) | steady sync median (ms) | max (ms) |",
        "|---|---|---|---|---|",
    ]
    for run in r["sync"]:
        for name, first in run["first_sync_s"].items():
            steady = run["steady_sync"][name]
            lines.append(
                f"| {run['clusters']} | {name} | {first} | {steady['median_ms']} | "
                f"{steady['max_ms']} |"
            )
    lines += [
        "",
        f"Alerts page with 3 clusters ({3 * r['alerts_per_cluster']:,} alerts). The one-cluster "
        "view's first request follows the default view's, which loaded the snapshot into the "
        "web process.",
        "",
        "| view | first after sync (s) | warm median (ms) | warm max (ms) |",
        "|---|---|---|---|",
    ]
    for view, found in r["alerts_page_3_clusters"].items():
        warm = found["warm"]
        lines.append(f"| {view} | {found['cold_s']} | {warm['median_ms']} | {warm['max_ms']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
