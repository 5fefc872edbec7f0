"""alertui benchmark: real Alertmanager, Prometheus, database, sync and gunicorn, one command.

    .venv/bin/python bench/run.py --alerts 1000 --alerts 10000 [--db postgres|sqlite]
                                  [--out bench/results/NAME.md]

For each alert count, everything is started fresh (Alertmanager 0.25 loaded with the alerts and
1,000 silences, Prometheus 2.42 with 500 failing targets, an empty database migrated and seeded
with 100,000 audit rows), measured, and stopped again. Results go to NAME.md and NAME.json.
What each number means: bench/README.md.

Everything started here runs in its own process group and is stopped in a `finally` (and at
exit, and on SIGTERM/SIGINT/SIGHUP); every wait and every HTTP call is bounded.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from .app_env import clear_redis_keys, collectstatic
from .bench_count import bench_count
from .children import child_main
from .config import ROOT, log
from .evaluate import evaluate
from .machine import git_state, machine, versions
from .processes import CLEANUP, cleanup_at_exit
from .procfs import loadavg, machine_busy
from .report import render_file, targets_summary, write_report
from .servers import closed_ports


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--alerts", type=int, action="append", help="alert count (repeatable)")
    p.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    p.add_argument(
        "--out",
        help="result path (.md; .json written beside it); default bench/results/<UTC date>-<db>.md",
    )
    p.add_argument("--reps", type=int, default=30, help="measured repetitions (default 30)")
    p.add_argument("--warmup", type=int, default=3, help="warm-up repetitions (default 3)")
    p.add_argument(
        "--clusters",
        type=int,
        default=1,
        choices=range(1, 6),
        metavar="K",
        help="Alertmanager clusters, each with N alerts and its own silences (default 1)",
    )
    p.add_argument("--silences", type=int, default=1000)
    p.add_argument("--targets", type=int, default=500, help="failing Prometheus targets")
    p.add_argument("--audit-rows", type=int, default=100_000)
    p.add_argument(
        "--resend-reps",
        type=int,
        default=5,
        help="syncs after Prometheus-style re-sends of every alert",
    )
    p.add_argument(
        "--churn-reps",
        type=int,
        default=3,
        help="times 1%% of the alerts resolve and fire again (2 syncs each)",
    )
    p.add_argument("--load-duration", type=int, default=20, help="seconds (default 20)")
    p.add_argument("--load-concurrency", type=int, default=8)
    p.add_argument("--load-tool", choices=["auto", "wrk", "python"], default="auto")
    p.add_argument("--note", default="", help="free text recorded in the results")
    p.add_argument(
        "--py-spy",
        action="store_true",
        help="sample the gunicorn workers with py-spy (if installed) during the load test",
    )
    p.add_argument("--keep-tmp", action="store_true", help="keep logs and data in the temp dir")
    p.add_argument(
        "--render", metavar="JSON", help="only rewrite the .md beside this results .json"
    )
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--spec", help=argparse.SUPPRESS)
    p.add_argument("--child-out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not args.child and not args.render and not args.alerts:
        p.error("give at least one --alerts N")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        child_main(args.child, args.spec, args.child_out)
        return 0
    if args.render:
        render_file(Path(args.render))
        return 0
    cleanup_at_exit()

    started = time.monotonic()
    now = datetime.now(UTC)
    out = (
        Path(args.out)
        if args.out
        else ROOT / "bench" / "results" / f"{now:%Y%m%d-%H%M}-{args.db}{_clusters(args)}.md"
    )
    if out.suffix != ".md":
        out = out.with_suffix(".md")
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = _meta(args, now)
    log(f"results will go to {out} and {out.with_suffix('.json')}")

    tmp_root = Path(tempfile.mkdtemp(prefix="alertui-bench-"))
    if not args.keep_tmp:
        CLEANUP.push("remove temp dir", lambda: shutil.rmtree(tmp_root, ignore_errors=True))
    runs = []
    try:
        clear_redis_keys()
        CLEANUP.push("clear Redis keys", clear_redis_keys)
        collectstatic(tmp_root)
        ports = closed_ports(args.targets)
        for n in args.alerts:
            res = bench_count(n, args, tmp_root, ports)
            res["checks"] = evaluate(res)
            runs.append(res)
            meta.update(duration_s=time.monotonic() - started, loadavg_end=loadavg())
            write_report(out, {"meta": meta, "runs": runs})  # what is done so far
    except BaseException:
        log(f"benchmark failed; logs in {tmp_root}" + ("" if args.keep_tmp else " (removed)"))
        raise
    finally:
        CLEANUP.unwind()
    meta["duration_s"] = time.monotonic() - started
    meta["loadavg_end"] = loadavg()
    meta["busy_end"] = machine_busy()
    report = {"meta": meta, "runs": runs}
    write_report(out, report)
    log(f"wrote {out} and {out.with_suffix('.json')}")
    print(targets_summary(report))
    return 0


def _clusters(args) -> str:
    return f"-{args.clusters}clusters" if args.clusters > 1 else ""


def _meta(args, now: datetime) -> dict:
    """The run's header: command, machine, versions, code, settings, and the other work on the
    machine before it starts (2 s of /proc/stat)."""
    python = (
        os.path.relpath(sys.executable, ROOT)
        if sys.executable.startswith(str(ROOT))
        else sys.executable
    )
    return {
        "command": shlex.join([python, *sys.argv]),
        "date": now.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine(),
        "versions": versions(),
        "git": git_state(),
        "db": args.db,
        "clusters": args.clusters,
        "reps": args.reps,
        "warmup": args.warmup,
        "load": f"{args.load_tool}, {args.load_duration}s, concurrency {args.load_concurrency}",
        "note": args.note,
        "loadavg_start": loadavg(),
        "busy_start": machine_busy(),
    }
