"""What a run was measured on: the machine, the versions of what it ran, and the code."""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import sqlite3
import subprocess
from importlib.metadata import version
from pathlib import Path

from tests.servers import alertmanager_binary, prometheus_binary

from .config import AM_VERSION, PG_ADMIN, PROMETHEUS_VERSION, ROOT


def machine() -> dict:
    mem = 0.0
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) / 1024
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "mem_total_mb": mem, "kernel": platform.release()}


def _tool_version(binary: str, pattern: str) -> str:
    """The version a tool's `--version` prints (first group of `pattern`), or "?"."""
    try:
        run = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
        return re.search(pattern, run.stdout + run.stderr).group(1)
    except (OSError, subprocess.SubprocessError, AttributeError):
        return "?"


def postgres_version() -> str:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception as e:  # noqa: BLE001
        return f"? ({e})"


def versions() -> dict:
    out = {"Python": platform.python_version()}
    for pkg in ("Django", "psycopg", "gunicorn", "celery", "requests", "django-filter"):
        try:
            out[pkg] = version(pkg)
        except Exception:  # noqa: BLE001
            out[pkg] = "?"
    out["PostgreSQL"] = postgres_version()
    out["SQLite"] = sqlite3.sqlite_version
    out["Alertmanager"] = _tool_version(str(alertmanager_binary(AM_VERSION)), r"version (\S+)")
    out["Prometheus"] = _tool_version(str(prometheus_binary(PROMETHEUS_VERSION)), r"version (\S+)")
    if shutil.which("wrk"):
        out["wrk"] = _tool_version("wrk", r"wrk (\S+)")
    return out


def git_state() -> dict:
    def git(*a):
        return subprocess.run(
            ["git", *a], cwd=ROOT, capture_output=True, text=True, timeout=20
        ).stdout

    try:
        dirty = [
            line[3:]
            for line in git("status", "--porcelain").splitlines()
            if line[3:] and not line[3:].startswith("bench/")
        ]
        return {"commit": git("rev-parse", "--short", "HEAD").strip(), "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": "?", "dirty": []}


def code_fingerprint() -> str:
    """A hash of the application code as it is on disk (committed or not), to notice code that
    changes while a run is going on."""
    digest = hashlib.sha1()
    for folder in ("alertui", "templates", "static"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
