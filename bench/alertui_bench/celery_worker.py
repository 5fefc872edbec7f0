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
SYNC_KINDS = ["silences", "alerts", "targets"]


def celery_bench(env: dict, tmpdir: Path, clusters: list[str], rounds: int = 3) -> dict:
    """A real worker (--pool solo: tasks run in the worker process itself) running the three
    sync tasks of each cluster `rounds` times; its VmHWM is the peak memory of a sync worker."""
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
        sent = [
            (kind, cluster) for _ in range(rounds) for kind in SYNC_KINDS for cluster in clusters
        ]
        for kind, cluster in sent:
            app.send_task(SYNC_TASK, args=(kind, cluster), queue=queue)

        def done():
            text = worker.log_path.read_text(errors="replace")
            if re.search(r"Task \S+\[[^\]]+\] (raised|retry)", text):
                raise BenchError(f"a sync task failed:\n{tail(worker.log_path)}")
            return len(re.findall(r"Task \S+\[[^\]]+\] succeeded in", text)) >= len(sent)

        wait_until(done, 900, f"{len(sent)} sync tasks done", 0.5)
        text = worker.log_path.read_text(errors="replace")
        # The solo pool runs them in the order sent.
        seconds = re.findall(r"Task \S+\[[^\]]+\] succeeded in ([\d.]+)s", text)
        several = len(clusters) > 1
        runs = [
            (f"sync_{kind}" + (f" {cluster}" if several else ""), float(sec) * 1000)
            for (kind, cluster), sec in zip(sent, seconds, strict=False)
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
