"""The memory a sync worker needs: a real Celery worker running the three sync tasks."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from .app_env import clear_redis_keys
from .config import REDIS_URL, VENV_BIN, BenchError, log
from .processes import Proc, tail, wait_until
from .procfs import proc_status

SYNC_TASK = "alertui.sync.tasks.sync_source"
SYNC_KINDS = ["silences", "alerts", "targets"]  # of the one (default) cluster


def celery_bench(env: dict, tmpdir: Path, rounds: int = 3) -> dict:
    """A real worker (--pool solo: tasks run in the worker process itself) running the three
    sync tasks `rounds` times; its VmHWM is the peak memory of a sync worker."""
    from celery import Celery

    queue = f"alertui-bench-{os.getpid()}"
    cmd = [
        str(VENV_BIN / "celery"),
        "-A",
        "alertui",
        "worker",
        "--concurrency",
        "1",
        "--pool",
        "solo",
        "-Q",
        queue,
        "-n",
        f"{queue}@%h",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    worker = Proc("celery worker", cmd, tmpdir / "celery.log", env=env)
    app = Celery("alertui-bench", broker=REDIS_URL)
    try:
        worker.wait_ready(
            lambda: " ready." in worker.log_path.read_text(errors="replace"),
            90,
            "celery worker ready",
        )
        idle = proc_status(worker.pid)
        for _ in range(rounds):
            for kind in SYNC_KINDS:
                app.send_task(
                    SYNC_TASK, args=(kind, env.get("CLUSTER_NAME", "default")), queue=queue
                )

        def done():
            text = worker.log_path.read_text(errors="replace")
            if re.search(r"Task \S+\[[^\]]+\] (raised|retry)", text):
                raise BenchError(f"a sync task failed:\n{tail(worker.log_path)}")
            return len(re.findall(r"Task \S+\[[^\]]+\] succeeded in", text)) >= rounds * 3

        wait_until(done, 900, f"{rounds * 3} sync tasks done", 0.5)
        text = worker.log_path.read_text(errors="replace")
        # The solo pool runs them in the order sent.
        seconds = re.findall(r"Task \S+\[[^\]]+\] succeeded in ([\d.]+)s", text)
        runs = [
            (f"sync_{SYNC_KINDS[i % len(SYNC_KINDS)]}", float(sec) * 1000)
            for i, sec in enumerate(seconds)
        ]
        return {
            "command": shlex.join(["celery", *cmd[1:]]),
            "idle": idle,
            "after_sync": proc_status(worker.pid),
            "task_ms": runs,
        }
    finally:
        app.close()
        worker.stop()
        try:
            clear_redis_keys(queue)
        except Exception as e:  # noqa: BLE001
            log(f"could not clear Redis keys: {e}")
