"""What the benchmark runs against and where it finds things; shared by all its parts."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH_SCRIPT = ROOT / "bench" / "run.py"  # the children run through it (--child)
VENV_BIN = (
    ROOT / ".venv" / "bin" if (ROOT / ".venv" / "bin").is_dir() else Path(sys.executable).parent
)
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
PG_DB = "alertui_bench"
REDIS_URL = "redis://127.0.0.1:6379/14"
# Debian bookworm's builds, from the test suite's cache (tests/servers.py, ALERTUI_BIN_CACHE;
# scripts/fetch-upstream-versions.sh fills it): the same binaries on every machine.
AM_VERSION = "0.25"
PROMETHEUS_VERSION = "2.42"
LOGIN_USER = "bench-oncall"
HTTP_TIMEOUT = 60  # seconds for any single HTTP request made by the benchmark

# The pages measured (over gunicorn and in-process), in the order the report lists them.
PAGES = [
    ("alerts", "/alerts/"),
    ("alerts_matcher", "/alerts/?q=severity%3D%22critical%22"),
    ("alerts_group_namespace", "/alerts/?group_by=namespace"),
    ("silences", "/silences/"),
    ("audit_filter", "/audit/?person=alice&action=expired"),
    ("targets", "/targets/"),
    ("maintenance_history", "/maintenance/history/"),
    ("silence_templates", "/silences/templates/"),
]


class BenchError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)
