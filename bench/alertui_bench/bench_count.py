"""Everything for one `--alerts N`: fresh servers, data and database, then the sync, Celery,
in-process and gunicorn measurements, in that order (bench/README.md, "What one run does")."""

from __future__ import annotations

import json
import secrets
import time
from collections import Counter
from pathlib import Path

import requests

from .alertmanager_data import alert_count, make_alerts, make_silences, post_alerts, post_silences
from .app_env import clear_redis_keys, clusters_env, create_database, django_env, manage
from .celery_worker import celery_bench
from .children import run_child
from .config import AM_VERSION, HTTP_TIMEOUT, LOGIN_USER, log
from .machine import code_fingerprint, git_state
from .processes import CLEANUP, wait_until
from .procfs import loadavg
from .servers import start_alertmanager, start_prometheus
from .web import web_bench

# The pages the in-process child profiles (CPU time of 10 requests each).
PROFILE_PAGES = ["alerts", "alerts_group_namespace", "silences", "audit_filter", "targets"]


def bench_count(n: int, args, tmp_root: Path, ports: list[int]) -> dict:
    """Everything for one alert count; whatever it started is stopped (and its database
    dropped) before it returns or raises."""
    mark = CLEANUP.mark()
    try:
        return _bench_count(n, args, tmp_root, ports)
    finally:
        CLEANUP.unwind(mark)


def _bench_count(n: int, args, tmp_root: Path, ports: list[int]) -> dict:
    tmpdir = tmp_root / f"n{n}"
    tmpdir.mkdir(parents=True, exist_ok=True)
    res: dict = {"alerts": n, "setup_seconds": {}, "loadavg": {"start": loadavg()}}
    res["code"] = {"start": code_fingerprint(), "git_start": git_state()["commit"]}
    setup = res["setup_seconds"]
    secret = secrets.token_urlsafe(40)
    password = secrets.token_urlsafe(16)

    log(f"[{n} alerts] Prometheus with {len(ports)} failing targets")
    t0 = time.monotonic()
    prom = start_prometheus(tmpdir / "prometheus", ports)

    k = args.clusters
    log(f"[{n} alerts] Alertmanager {AM_VERSION}" + (f", {k} clusters" if k > 1 else ""))
    ams = [start_alertmanager(tmpdir / f"alertmanager{i}") for i in range(k)]
    am = ams[0]
    res["clusters"] = k
    res["alertmanager_version"] = am.status().get("versionInfo", {}).get("version")
    # One cluster's alerts, re-sent and churned by the sync measurements (of the first cluster).
    alerts = make_alerts(n, seed=n)
    alerts_file = tmpdir / "alerts.json"
    alerts_file.write_text(json.dumps(alerts))
    setup["post_alerts"] = setup["post_silences"] = 0.0
    for i, each in enumerate(ams):
        mine = alerts if i == 0 else make_alerts(n, seed=n + 100 * i)
        t1 = time.monotonic()
        post_alerts(each.url, mine)
        wait_until(
            lambda u=each.url: alert_count(u) == n, 60, f"Alertmanager to list {n} alerts", 0.5
        )
        setup["post_alerts"] += time.monotonic() - t1
        t1 = time.monotonic()
        posted = post_silences(
            each.url, make_silences(mine, args.silences, seed=n + 1 + i), 0.1, seed=n + 2 + i
        )
        res.setdefault("silences", posted)
        setup["post_silences"] += time.monotonic() - t1
    names = [f"c{i + 1}" for i in range(k)] if k > 1 else ["default"]
    clusters = list(zip(names, [each.url for each in ams], strict=True))
    body = requests.get(f"{am.url}/api/v2/alerts", timeout=HTTP_TIMEOUT).json()
    res["alert_states"] = dict(Counter(a["status"]["state"] for a in body))
    res["alerts_silenced"] = sum(bool(a["status"]["silencedBy"]) for a in body)

    log(f"[{n} alerts] waiting for Prometheus to report the targets down")
    res["prometheus"] = prom.wait_down()
    setup["prometheus_settle"] = time.monotonic() - t0

    log(f"[{n} alerts] fresh {args.db} database, migrate, seed {args.audit_rows} audit rows")
    db_url, drop_db = create_database(args.db, tmpdir)
    CLEANUP.push(f"drop {args.db} database", drop_db)
    env = django_env(db_url, am.url, prom.url, secret)
    if k > 1:
        env = clusters_env(env, tmpdir, clusters, prom.url)
    t1 = time.monotonic()
    manage(["migrate", "--noinput"], env, tmpdir / "migrate.log", 600)
    setup["migrate"] = time.monotonic() - t1
    manage(
        ["ensure_user", LOGIN_USER, "--password", password, "--role", "silencer"],
        env,
        tmpdir / "ensure_user.log",
        120,
    )
    res["seed"] = run_child("seed", {"count": args.audit_rows, "seed": n}, env, tmpdir, 1800)
    setup["seed_audit"] = res["seed"]["seconds"]

    log(f"[{n} alerts] sync: first run, then {args.reps} steady runs beside raw fetches")
    clear_redis_keys()
    res["loadavg"]["before_sync"] = loadavg()
    res["sync"] = run_child(
        "sync",
        {
            "am_url": am.url,
            "clusters": clusters,
            "prom_url": prom.url,
            "alerts": n,
            "warmup": args.warmup,
            "reps": args.reps,
            "resend_reps": args.resend_reps,
            "churn_reps": args.churn_reps,
            "alerts_file": str(alerts_file),
        },
        env,
        tmpdir,
        3600,
    )
    res["loadavg"]["after_sync"] = loadavg()

    log(f"[{n} alerts] Celery worker memory")
    res["celery"] = celery_bench(env, tmpdir, names)

    log(f"[{n} alerts] in-process views and profiles")
    res["profile"] = run_child(
        "profile",
        {"user": LOGIN_USER, "reps": max(10, args.reps // 2), "profile_pages": PROFILE_PAGES},
        env,
        tmpdir,
        1800,
    )

    log(f"[{n} alerts] gunicorn pages and load")
    res["loadavg"]["before_web"] = loadavg()
    res["web"] = web_bench(env, args, am.url, password, tmpdir)
    res["loadavg"]["end"] = loadavg()
    res["code"].update(end=code_fingerprint(), git_end=git_state()["commit"])
    if res["code"]["end"] != res["code"]["start"]:
        log(f"[{n} alerts] WARNING: the application code changed during this count")
    return res
