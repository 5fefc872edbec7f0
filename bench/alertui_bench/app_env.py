"""What alertui runs with in the benchmark: a fresh database, Redis database 14, the
environment its processes get, and its manage.py commands."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .config import PG_ADMIN, PG_DB, PYTHON, REDIS_URL, ROOT
from .processes import CLEANUP, run_checked


def create_database(kind: str, tmpdir: Path) -> tuple[str, object]:
    """A fresh, empty database; returns its URL and a function that drops it."""
    if kind == "sqlite":
        path = tmpdir / "alertui-bench.sqlite3"
        path.unlink(missing_ok=True)

        def drop():
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        return f"sqlite:///{path}", drop
    import psycopg

    def drop():
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")

    drop()
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {PG_DB}")
    return f"postgres://postgres@127.0.0.1:5432/{PG_DB}", drop


def clear_redis_keys(queue: str | None = None) -> None:
    """Sync locks and the Celery queues of this and earlier benchmark runs (queue, kombu
    bindings) in Redis database 14, which only this benchmark uses."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5, socket_connect_timeout=3)
    try:
        keys = list(client.scan_iter("*:lock:*")) + list(client.scan_iter("*alertui-bench-*"))
        if queue:
            keys.append(queue)
        if keys:
            client.delete(*keys)
        # Kombu's bookkeeping of the workers' bindings (our queues and their remote-control
        # "pidbox"): database 14 has no other Celery users.
        client.delete("_kombu.binding.celery.pidbox")
        deadlines = "_kombu.binding_deadlines"
        if client.type(deadlines) == b"zset":
            ours = [
                m
                for m in client.zrange(deadlines, 0, -1)
                if b"alertui-bench-" in m or m == b"celery.pidbox"
            ]
            if ours:
                client.zrem(deadlines, *ours)
    finally:
        client.close()


def django_env(db_url: str, am_url: str, prom_url: str, secret: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="alertui.settings",
        DATABASE_URL=db_url,
        SECRET_KEY=secret,
        ALERTMANAGER_URL=am_url,
        PROMETHEUS_URL=prom_url,
        REDIS_URL=REDIS_URL,
        DEBUG="false",
        SECURE_COOKIES="false",
        ALLOWED_HOSTS="127.0.0.1",
        PYTHONPATH=str(ROOT),
    )
    for key in ("TRUSTED_HEADER", "TRUSTED_HEADER_PROXIES", "CELERY_TASK_ALWAYS_EAGER"):
        env.pop(key, None)
    return env


def clusters_env(env: dict, tmpdir: Path, clusters: list[tuple[str, str]], prom_url: str) -> dict:
    """`env` for several clusters: a CLUSTERS_FILE naming each (its Alertmanager, and the one
    Prometheus every cluster reads here) instead of ALERTMANAGER_URL and PROMETHEUS_URL."""
    path = tmpdir / "clusters.yaml"
    lines = ["clusters:"]
    for name, url in clusters:
        lines += [f"  - name: {name}", f"    alertmanagers: [{url}]"]
        lines += [f"    prometheus: [{prom_url}]"]
    path.write_text("\n".join(lines) + "\n")
    env = {k: v for k, v in env.items() if k not in ("ALERTMANAGER_URL", "PROMETHEUS_URL")}
    return {**env, "CLUSTERS_FILE": str(path)}


def manage(command: list[str], env: dict, log_path: Path, timeout: float) -> str:
    """`manage.py COMMAND...` to completion; BenchError with the log tail unless it exits 0."""
    return run_checked(command[0], [PYTHON, "manage.py", *command], log_path, timeout, env=env)


def collectstatic(tmp_root: Path) -> None:
    """`manage.py collectstatic` for gunicorn. It writes to staticfiles/ in the project
    (settings.STATIC_ROOT, not overridable), which is removed at the end if it was not there."""
    static_root = ROOT / "staticfiles"
    if not static_root.exists():
        CLEANUP.push("remove staticfiles/", lambda: shutil.rmtree(static_root, ignore_errors=True))
    env = django_env(
        "sqlite:///" + str(tmp_root / "collectstatic.sqlite3"),
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        "collectstatic",
    )
    manage(["collectstatic", "--noinput"], env, tmp_root / "collectstatic.log", 300)
