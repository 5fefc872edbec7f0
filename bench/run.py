#!/usr/bin/env python3
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
import atexit
import cProfile
import io
import json
import math
import os
import platform
import pstats
import random
import re
import resource
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from tests.servers import AlertmanagerProcess, free_port  # noqa: E402

VENV_BIN = (
    ROOT / ".venv" / "bin" if (ROOT / ".venv" / "bin").is_dir() else Path(sys.executable).parent
)
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
PG_DB = "alertui_bench"
REDIS_URL = "redis://127.0.0.1:6379/14"
AM_VERSION = "0.25"
PROMETHEUS_BINARY = "/usr/bin/prometheus"
LOGIN_USER = "bench-oncall"
HTTP_TIMEOUT = 60  # seconds for any single HTTP request made by the benchmark

# The acceptance targets (from the issue), checked in every run.
TARGET_PAGE_VS_AM = 0.5  # alerts page p50 <= 0.5 x raw Alertmanager GET p50
TARGET_SYNC_VS_RAW = 1.5  # steady sync p50 <= 1.5 x raw fetch-and-parse p50
TARGET_AUDIT_MS = 100.0  # audit page with a filter over 100k rows, p50
TARGET_WEB_MB = 300.0  # max RSS of one web process
TARGET_RPS = 50.0  # /alerts/ under concurrent load
TARGET_LOAD_P99_MS = 500.0

PAGES = [
    ("alerts", "/alerts/"),
    ("alerts_matcher", "/alerts/?q=severity%3D%22critical%22"),
    ("alerts_group_namespace", "/alerts/?group_by=namespace"),
    ("silences", "/silences/"),
    ("audit_filter", "/audit/?person=alice&action=expired"),
    ("targets", "/targets/"),
]

AM_CONFIG = """\
route:
  receiver: "null"
  group_by: ["alertname", "namespace"]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: "null"
"""


class BenchError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# -- cleanup -----------------------------------------------------------------------------------


class Cleanup:
    """LIFO list of things to undo; run from `finally`, atexit and signal handlers."""

    def __init__(self):
        self._items: list[tuple[int, str, object]] = []
        self._next = 0
        self._lock = threading.Lock()

    def push(self, what: str, fn) -> int:
        with self._lock:
            self._next += 1
            self._items.append((self._next, what, fn))
            return self._next

    def remove(self, token: int) -> None:
        with self._lock:
            self._items = [item for item in self._items if item[0] != token]

    def mark(self) -> int:
        """A point to unwind() back to: undoes only what was pushed after it."""
        with self._lock:
            return self._next

    def unwind(self, mark: int = 0) -> None:
        while True:
            with self._lock:
                if not self._items or self._items[-1][0] <= mark:
                    return
                _, what, fn = self._items.pop()
            self._call(what, fn)

    def run(self) -> None:
        self.unwind(0)

    @staticmethod
    def _call(what, fn) -> None:
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - cleanup must go on
            log(f"cleanup '{what}' failed: {type(e).__name__}: {e}")


CLEANUP = Cleanup()


def _on_signal(signum, _frame):
    raise SystemExit(f"stopped by signal {signum}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Proc:
    """A child process in its own session (so its children stop with it), logging to a file."""

    def __init__(self, name: str, cmd: list[str], log_path: Path, env=None, cwd=ROOT):
        self.name = name
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            cmd,
            env=env,
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.pid = self.popen.pid
        self._token = CLEANUP.push(f"stop {name} (pid {self.pid})", self.stop)

    def running(self) -> bool:
        return self.popen.poll() is None

    def wait(self, timeout: float) -> int:
        """Wait for the exit; kill the group and raise BenchError after `timeout` seconds."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise BenchError(
                f"{self.name} did not finish within {timeout:g}s; log {self.log_path}:\n"
                f"{_tail(self.log_path)}"
            ) from None

    def stop(self, timeout: float = 15) -> None:
        CLEANUP.remove(self._token)
        if self.popen.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.popen.wait(timeout=10)
        if not self._log.closed:
            self._log.close()


def run_checked(name: str, cmd: list[str], log_path: Path, timeout: float, env=None) -> str:
    """Run to completion within `timeout`; BenchError with the log tail unless it exits 0."""
    proc = Proc(name, cmd, log_path, env=env)
    code = proc.wait(timeout)
    proc.stop()
    if code != 0:
        raise BenchError(f"{name} exited {code}; log {log_path}:\n{_tail(log_path)}")
    return log_path.read_text(errors="replace")


def wait_until(fn, timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    last = "no attempt"
    while True:
        try:
            value = fn()
        except Exception as e:  # noqa: BLE001 - "not yet"
            last = f"{type(e).__name__}: {e}"
        else:
            if value:
                return value
            last = f"returned {value!r}"
        if time.monotonic() >= deadline:
            raise BenchError(f"timed out after {timeout:g}s waiting for {what} (last: {last})")
        time.sleep(interval)


# -- statistics --------------------------------------------------------------------------------


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


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def rusage_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def proc_status(pid: int) -> dict:
    """VmHWM (peak RSS) and VmRSS of a process, in MB."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return out


_TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time used so far by these processes (not their children)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        except (OSError, IndexError, ValueError):
            pass
    return total / _TICK


def machine_busy(seconds: float = 2.0) -> float:
    """Share (0-100) of all CPUs busy over `seconds`, from /proc/stat: the other work here."""

    def sample():
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        return sum(values), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
        return 100.0 * (1 - (idle1 - idle0) / max(1, total1 - total0))
    except (OSError, ValueError, IndexError):
        return -1.0


def child_pids(pid: int) -> list[int]:
    pids = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            pids += [int(p) for p in children.read_text().split()]
        except OSError:
            pass
    return sorted(set(pids))


# -- test data ---------------------------------------------------------------------------------

ALERTNAMES = [
    "KubePodCrashLooping",
    "KubePodNotReady",
    "KubeDeploymentReplicasMismatch",
    "KubeStatefulSetReplicasMismatch",
    "KubeContainerWaiting",
    "KubeDaemonSetRolloutStuck",
    "KubeJobFailed",
    "KubeHpaMaxedOut",
    "KubeCPUOvercommit",
    "KubeMemoryOvercommit",
    "KubePersistentVolumeFillingUp",
    "KubePersistentVolumeErrors",
    "KubeNodeNotReady",
    "KubeNodeUnreachable",
    "KubeletTooManyPods",
    "KubeClientErrors",
    "KubeAPIErrorBudgetBurn",
    "KubeVersionMismatch",
    "NodeFilesystemSpaceFillingUp",
    "NodeFilesystemAlmostOutOfSpace",
    "NodeMemoryHighUtilization",
    "NodeHighNumberConntrackEntriesUsed",
    "NodeNetworkReceiveErrs",
    "NodeClockNotSynchronising",
    "NodeRAIDDegraded",
    "NodeDiskIOSaturation",
    "NodeCPUHighUsage",
    "TargetDown",
    "PrometheusRuleFailures",
    "PrometheusNotConnectedToAlertmanagers",
    "AlertmanagerFailedToSendAlerts",
    "HTTPHighErrorRate",
    "HTTPHighLatencyP99",
    "GRPCServerErrors",
    "PostgresReplicationLag",
    "PostgresTooManyConnections",
    "RedisMemoryHigh",
    "RedisDown",
    "KafkaConsumerLag",
    "KafkaUnderReplicatedPartitions",
    "ElasticsearchClusterYellow",
    "CertificateExpiringSoon",
    "IngressHigh5xxRate",
    "JobQueueBacklog",
    "CronJobMissedSchedule",
    "ContainerOOMKilled",
    "ContainerCPUThrottlingHigh",
    "ServiceLevelObjectiveBreach",
    "DNSResolutionFailures",
    "BlackboxProbeFailed",
]
assert len(set(ALERTNAMES)) == 50
NAMESPACES = [
    "payments",
    "checkout",
    "search",
    "auth",
    "kube-system",
    "monitoring",
    "ingress-nginx",
    "logging",
    "billing",
    "catalog",
    "orders",
    "inventory",
    "notifications",
    "recommendations",
    "users",
    "gateway",
    "data-pipeline",
    "ml-serving",
    "cache",
    "storage",
]
CLUSTERS = ["prod-eu-west-1", "prod-us-east-1", "staging-eu-west-1"]
COMPONENTS = ["api", "web", "worker", "db", "cache", "gateway", "scheduler", "consumer"]
SILENCE_AUTHORS = ["alice", "bob", "carol", "dave", "erin@example.com", "amtool"]
SILENCE_COMMENTS = [
    "Deploying the fix from OPS-{t}, expected to clear within the hour",
    "Known issue, tracked in INC-{t}; vendor is on it",
    "Planned maintenance window (CHG-{t})",
    "Flapping during the node pool upgrade, OPS-{t}",
    "Noisy after the migration; threshold change in review (PR #{t})",
    "Capacity added, waiting for the rebalance to finish",
]


def _severity_of(name: str) -> str:
    digest = sum(name.encode()) % 10
    return "critical" if digest < 2 else ("warning" if digest < 8 else "info")


def _job_of(name: str, service: str) -> str:
    if name.startswith(("Kube", "Container")):
        return "kube-state-metrics"
    if name.startswith("Node"):
        return "node-exporter"
    if name.startswith(("Prometheus", "Alertmanager", "TargetDown")):
        return "prometheus"
    if name.startswith(("Blackbox", "Certificate", "DNS")):
        return "blackbox"
    return service


def make_alerts(count: int, seed: int) -> list[dict]:
    """`count` distinct firing alerts over 50 alert names, with labels a Kubernetes fleet has."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    weights = [1 / (k + 1) ** 0.7 for k in range(len(ALERTNAMES))]  # a few names dominate
    alerts = []
    for i in range(count):
        name = rng.choices(ALERTNAMES, weights)[0]
        namespace = rng.choice(NAMESPACES)
        cluster = rng.choices(CLUSTERS, [0.45, 0.45, 0.10])[0]
        service = f"{namespace}-{rng.choice(COMPONENTS)}"
        pod = f"{service}-{rng.randrange(16**8):08x}-{i:05x}"
        instance = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}:{rng.choice([8080, 9100])}"
        labels = {
            "alertname": name,
            "severity": _severity_of(name),
            "namespace": namespace,
            "job": _job_of(name, service),
            "instance": instance,
            "pod": pod,
            "cluster": cluster,
            "service": service,
        }
        annotations = {
            "summary": f"{name} on {namespace}/{pod}",
            "description": (
                f"{name}: pod {pod} in namespace {namespace} on cluster {cluster} has been in "
                f"this state for more than 15 minutes (current value {rng.uniform(0, 100):.2f})."
                " Check recent deployments and the container logs."
            ),
            "runbook_url": f"https://runbooks.example.com/alerts/{name.lower()}",
        }
        starts = now - timedelta(seconds=rng.uniform(60, 3 * 86400))
        alerts.append(
            {
                "labels": labels,
                "annotations": annotations,
                "startsAt": starts.isoformat().replace("+00:00", "Z"),
                "endsAt": (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
                "generatorURL": (
                    f"https://prometheus.{cluster}.example.com/graph?g0.expr="
                    f"ALERTS%7Balertname%3D%22{name}%22%7D&g0.tab=1"
                ),
            }
        )
    return alerts


def with_fresh_ends(alerts: list[dict]) -> list[dict]:
    """The same alerts as Prometheus re-sends them: endsAt moved forward."""
    ends = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    return [{**a, "endsAt": ends} for a in alerts]


def post_alerts(am_url: str, alerts: list[dict], batch: int = 500) -> None:
    session = requests.Session()
    for i in range(0, len(alerts), batch):
        r = session.post(
            f"{am_url}/api/v2/alerts", json=alerts[i : i + batch], timeout=HTTP_TIMEOUT
        )
        if r.status_code != 200:
            raise BenchError(f"POST /api/v2/alerts: {r.status_code} {r.text[:300]}")


def _matcher(name: str, value: str, regex: bool = False) -> dict:
    return {"name": name, "value": value, "isRegex": regex, "isEqual": True}


def make_silences(alerts: list[dict], count: int, seed: int) -> list[dict]:
    """`count` silences by a few people: some on the pod or instance of a firing alert (so
    those alerts are silenced), the rest on things not alerting right now."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    matching = min(int(count * 0.6), len(alerts) // 5)
    silences = []
    for j in range(count):
        if j < matching:
            labels = alerts[rng.randrange(len(alerts))]["labels"]
            kind = rng.random()
            if kind < 0.7:
                matchers = [_matcher("pod", labels["pod"])]
            elif kind < 0.85:
                matchers = [
                    _matcher("namespace", labels["namespace"]),
                    _matcher("pod", labels["pod"]),
                ]
            else:
                matchers = [_matcher("instance", labels["instance"])]
        elif rng.random() < 0.5:
            ns = rng.choice(NAMESPACES)
            matchers = [
                _matcher("namespace", ns),
                _matcher("pod", f"{ns}-legacy-{j:04d}-.*", regex=True),
            ]
        else:
            matchers = [_matcher("instance", f"10.250.{j // 250}.{j % 250}:9100")]
        starts = now + timedelta(hours=2) if rng.random() < 0.05 else now
        duration = rng.choice([1, 2, 2, 4, 8, 24, 72, 168])
        silences.append(
            {
                "matchers": matchers,
                "startsAt": starts.isoformat().replace("+00:00", "Z"),
                "endsAt": (starts + timedelta(hours=duration)).isoformat().replace("+00:00", "Z"),
                "createdBy": rng.choices(SILENCE_AUTHORS, [4, 3, 2, 2, 1, 1])[0],
                "comment": rng.choice(SILENCE_COMMENTS).format(t=rng.randrange(1000, 9999)),
            }
        )
    return silences


def post_silences(am_url: str, silences: list[dict], expire_fraction: float, seed: int) -> dict:
    session = requests.Session()
    ids = []
    for body in silences:
        r = session.post(f"{am_url}/api/v2/silences", json=body, timeout=HTTP_TIMEOUT)
        if r.status_code != 200:
            raise BenchError(f"POST /api/v2/silences: {r.status_code} {r.text[:300]}")
        ids.append(r.json()["silenceID"])
    rng = random.Random(seed)
    expired = rng.sample(ids, int(len(ids) * expire_fraction))
    for sid in expired:
        r = session.delete(f"{am_url}/api/v2/silence/{sid}", timeout=HTTP_TIMEOUT)
        if r.status_code != 200:
            raise BenchError(f"DELETE /api/v2/silence/{sid}: {r.status_code} {r.text[:300]}")
    return {"created": len(ids), "expired": len(expired)}


# -- Prometheus --------------------------------------------------------------------------------

TARGET_JOBS = ["node-exporter", "kube-state-metrics", "cadvisor", "app-metrics", "blackbox"]


def closed_ports(count: int, start: int = 10000, stop: int = 32000) -> list[int]:
    """Loopback ports that refuse connections now (nothing listens there)."""
    ports = []
    for port in range(start, stop):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 111:  # ECONNREFUSED
                ports.append(port)
        if len(ports) == count:
            return ports
    raise BenchError(f"found only {len(ports)} closed ports in {start}-{stop}")


class PrometheusServer:
    """Prometheus 2.42 scraping itself (up) and `len(ports)` targets on closed ports (down)."""

    def __init__(self, tmpdir: Path, ports: list[int], scrape_interval: str = "15s"):
        self.tmpdir = tmpdir
        self.port = free_port()
        self.ports = ports
        self.scrape_interval = scrape_interval
        self.proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> str:
        lines = [
            "global:",
            f"  scrape_interval: {self.scrape_interval}",
            "  scrape_timeout: 10s",
            "  evaluation_interval: 15s",
            "scrape_configs:",
            "  - job_name: prometheus",
            "    static_configs:",
            f"      - targets: ['127.0.0.1:{self.port}']",
        ]
        per_job = math.ceil(len(self.ports) / len(TARGET_JOBS))
        for k, job in enumerate(TARGET_JOBS):
            chunk = self.ports[k * per_job : (k + 1) * per_job]
            if not chunk:
                continue
            lines += [f"  - job_name: {job}", "    static_configs:"]
            for c, cluster in enumerate(CLUSTERS[:2]):
                part = chunk[c::2]
                targets = ", ".join(f"'127.0.0.1:{p}'" for p in part)
                lines += [
                    f"      - targets: [{targets}]",
                    f"        labels: {{cluster: {cluster}}}",
                ]
        return "\n".join(lines) + "\n"

    def start(self) -> PrometheusServer:
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        (self.tmpdir / "data").mkdir(exist_ok=True)
        config = self.tmpdir / "prometheus.yml"
        config.write_text(self.config())
        binary = PROMETHEUS_BINARY
        cmd = [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={self.tmpdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]
        self.proc = Proc("prometheus", cmd, self.tmpdir / "prometheus.log")

        def ready():
            if not self.proc.running():
                raise BenchError(f"Prometheus exited:\n{_tail(self.proc.log_path)}")
            return requests.get(f"{self.url}/-/ready", timeout=2).status_code == 200

        wait_until(ready, 30, "Prometheus /-/ready")
        return self

    def targets(self) -> list[dict]:
        r = requests.get(f"{self.url}/api/v1/targets", params={"state": "active"}, timeout=10)
        r.raise_for_status()
        return r.json()["data"]["activeTargets"]

    def wait_down(self, timeout: float = 90) -> dict:
        def all_down():
            down = [t for t in self.targets() if t["health"] == "down"]
            return down if len(down) >= len(self.ports) else None

        down = wait_until(all_down, timeout, f"{len(self.ports)} targets reported down", 1.0)
        refused = sum("connection refused" in t.get("lastError", "") for t in down)
        return {"down": len(down), "connection_refused": refused}

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


def prometheus_version() -> str:
    try:
        out = subprocess.run(
            [PROMETHEUS_BINARY, "--version"], capture_output=True, text=True, timeout=10
        )
        return (out.stdout or out.stderr).splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


# -- database ----------------------------------------------------------------------------------


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


def postgres_version() -> str:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception as e:  # noqa: BLE001
        return f"? ({e})"


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


def run_child(task: str, spec: dict, env: dict, tmpdir: Path, timeout: float) -> dict:
    """Run `task` in a fresh interpreter that calls django.setup() with `env`."""
    spec_path = tmpdir / f"{task}-spec.json"
    out_path = tmpdir / f"{task}-out.json"
    spec_path.write_text(json.dumps(spec))
    out_path.unlink(missing_ok=True)
    cmd = [
        PYTHON,
        str(Path(__file__).resolve()),
        "--child",
        task,
        "--spec",
        str(spec_path),
        "--child-out",
        str(out_path),
    ]
    run_checked(f"{task} child", cmd, tmpdir / f"{task}.log", timeout, env=env)
    return json.loads(out_path.read_text())


# -- children: the in-process parts, run after django.setup() -----------------------------------

PEOPLE = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]


def child_seed(spec: dict) -> dict:
    """Bulk-insert audit rows: a year of silence changes by a team, plus sync-observed ones."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.utils import timezone

    from alertui.audit.models import AuditEvent

    rng = random.Random(spec["seed"])
    users = {}
    for name in PEOPLE:
        user, created = User.objects.get_or_create(username=name)
        if created:
            user.set_unusable_password()
            user.save()
        users[name] = user
    Action, Source, Outcome = AuditEvent.Action, AuditEvent.Source, AuditEvent.Outcome
    actions = [
        Action.CREATED,
        Action.EXTENDED,
        Action.EDITED,
        Action.REPLACED,
        Action.EXPIRED,
        Action.RECREATED,
        Action.ENDED,
    ]
    action_weights = [30, 15, 8, 5, 20, 4, 18]
    person_weights = [6, 4, 3, 3, 2, 1, 1]  # alice does the most
    free_text = ["amtool", "alice.smith@example.com", "grafana", "erin@example.com", "ci-bot", ""]
    now = timezone.now()
    year = 365 * 86400
    started = time.perf_counter()
    batch: list[AuditEvent] = []
    total = 0
    for _ in range(spec["count"]):
        action = rng.choices(actions, action_weights)[0]
        source = rng.choices([Source.BROWSER, Source.SYNC, Source.API], [60, 35, 5])[0]
        if action == Action.ENDED:
            source = Source.SYNC
        at = now - timedelta(seconds=rng.uniform(0, year))
        ns = rng.choice(NAMESPACES)
        pod = f"{ns}-{rng.choice(COMPONENTS)}-{rng.randrange(16**8):08x}"
        matchers = [["namespace", "=", ns], ["pod", "=", pod]]
        matchers_text = f'namespace="{ns}", pod="{pod}"'
        starts = at - timedelta(minutes=rng.choice([0, 0, 5, 60]))
        ends = starts + timedelta(hours=rng.choice([1, 2, 4, 8, 24, 72]))
        comment = rng.choice(SILENCE_COMMENTS).format(t=rng.randrange(1000, 9999))
        silence_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        after = {
            "matchers": [f'{m[0]}="{m[2]}"' for m in matchers],
            "startsAt": starts.isoformat(),
            "endsAt": ends.isoformat(),
            "createdBy": "",
            "comment": comment,
        }
        fields = dict(
            at=at,
            action=action,
            source=source,
            silence_id=silence_id,
            matchers=matchers,
            matchers_text=matchers_text,
            starts_at=starts,
            ends_at=ends,
            comment=comment,
            after=after,
        )
        if source == Source.SYNC:
            fields["actor_name"] = rng.choice(free_text) if action == Action.CREATED else ""
            fields["note"] = {
                Action.CREATED: "Created outside alertui (createdBy is Alertmanager's free text).",
                Action.ENDED: "Reached its end time.",
            }.get(action, "Changed outside alertui; Alertmanager does not record by whom.")
        else:
            person = rng.choices(PEOPLE, person_weights)[0]
            fields.update(
                actor=users[person],
                actor_name=person,
                remote_addr=f"10.8.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                request_id=uuid.UUID(int=rng.getrandbits(128), version=4).hex,
            )
            after["createdBy"] = person
        if action in (Action.EDITED, Action.EXTENDED, Action.REPLACED, Action.EXPIRED):
            fields["before"] = {**after, "endsAt": (ends - timedelta(hours=1)).isoformat()}
        if action == Action.REPLACED:
            fields["previous_silence_id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if source != Source.SYNC and rng.random() < 0.03:
            fields["outcome"] = Outcome.FAILED
            fields["error"] = "silence not found"
        batch.append(AuditEvent(**fields))
        if len(batch) >= 5000:
            AuditEvent.objects.bulk_create(batch)
            total += len(batch)
            batch = []
    if batch:
        AuditEvent.objects.bulk_create(batch)
        total += len(batch)
    seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what autovacuum would do shortly after a bulk load
    return {
        "rows": total,
        "seconds": seconds,
        "alice_expired": AuditEvent.objects.filter(
            actor_name__icontains="alice", action="expired"
        ).count(),
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


def _profile_text(profile: cProfile.Profile, sort: str, limit: int) -> str:
    buf = io.StringIO()
    stats = pstats.Stats(profile, stream=buf)
    stats.strip_dirs().sort_stats(sort).print_stats(limit)
    text = buf.getvalue()
    # Drop pstats' header lines before the table.
    start = text.find("   ncalls")
    return text[start:] if start >= 0 else text


def child_sync(spec: dict) -> dict:
    """Raw fetch-and-parse vs. the sync functions, interleaved rep by rep, plus RSS."""
    from django.db import connection

    from alertui.alerts import snapshot
    from alertui.alerts.sync import sync_alerts
    from alertui.silences.sync import sync_silences
    from alertui.targets.sync import sync_targets

    am, prom, n = spec["am_url"], spec["prom_url"], spec["alerts"]
    warmup, reps = spec["warmup"], spec["reps"]
    raw = requests.Session()
    out: dict = {"rss_mb": {"after_setup": rusage_mb()}}

    def raw_alerts():
        t0 = time.perf_counter()
        r = raw.get(f"{am}/api/v2/alerts", timeout=HTTP_TIMEOUT)
        body = r.content
        t1 = time.perf_counter()
        data = json.loads(body)
        t2 = time.perf_counter()
        if r.status_code != 200 or len(data) != n:
            raise BenchError(f"GET /api/v2/alerts: {r.status_code}, {len(data)} alerts, not {n}")
        return t1 - t0, t2 - t0, len(body)

    sources = [
        f"{am}/api/v2/silences",
        f"{am}/api/v2/alerts?active=true&silenced=true&inhibited=true",
        f"{prom}/api/v1/targets?state=active",
        f"{prom}/api/v1/scrape_pools",
        f"{prom}/api/v1/rules",
    ]

    def raw_all():
        t0 = time.perf_counter()
        size = 0
        for url in sources:
            r = raw.get(url, timeout=HTTP_TIMEOUT)
            r.raise_for_status()
            json.loads(r.content)
            size += len(r.content)
        return time.perf_counter() - t0, size

    def cycle():
        results = {}
        c0 = time.process_time()
        t0 = time.perf_counter()
        results["silences"] = sync_silences()
        t1 = time.perf_counter()
        results["alerts"] = sync_alerts()
        t2 = time.perf_counter()
        results["targets"] = sync_targets()
        t3 = time.perf_counter()
        times = {
            "silences": t1 - t0,
            "alerts": t2 - t1,
            "targets": t3 - t2,
            "total": t3 - t0,
            "total_cpu": time.process_time() - c0,
        }
        for name, res in results.items():
            if res.skipped:
                raise BenchError(f"sync_{name} skipped: another run holds its Redis lock")
            error = getattr(res, "error", "") or "; ".join(getattr(res, "errors", []) or [])
            if error:
                raise BenchError(f"sync_{name} failed: {error}")
        return times, results

    for _ in range(warmup):
        raw_alerts()
        raw_all()
    times, results = cycle()
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
    for _ in range(warmup):
        cycle()
    samples: dict[str, list[float]] = {
        k: []
        for k in (
            "raw_fetch",
            "raw_fetch_parse",
            "raw_all",
            "silences",
            "alerts",
            "targets",
            "total",
            "total_cpu",
        )
    }
    steady_changes = Counter()
    for _ in range(reps):
        fetch, fetch_parse, size = raw_alerts()
        samples["raw_fetch"].append(fetch)
        samples["raw_fetch_parse"].append(fetch_parse)
        raw_all_seconds, raw_all_size = raw_all()
        samples["raw_all"].append(raw_all_seconds)
        times, results = cycle()
        for key in ("silences", "alerts", "targets", "total", "total_cpu"):
            samples[key].append(times[key])
        steady_changes["audit_recorded"] += len(results["silences"].recorded)
        steady_changes["alerts_added"] += results["alerts"].added
        steady_changes["alerts_changed"] += results["alerts"].changed
        steady_changes["alerts_removed"] += results["alerts"].removed
    out["raw_alerts_bytes"] = size
    out["raw_all_bytes"] = raw_all_size
    out["steady"] = {k: stats_ms(v) for k, v in samples.items()}
    out["steady_changes"] = dict(steady_changes)
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
    cycle()
    profile.disable()
    out["steady_profile"] = _profile_text(profile, "cumulative", 35)

    # Prometheus re-sends every firing alert each minute (new endsAt, so Alertmanager moves
    # updatedAt): the sync that follows, and a cold web process's full snapshot load.
    resend: dict[str, list[float]] = {"sync_alerts": [], "snapshot_reload": []}
    changed = []
    for _ in range(spec["resend_reps"]):
        post_alerts(am, with_fresh_ends(spec["alerts_payload"]))
        t0 = time.perf_counter()
        res = sync_alerts()
        resend["sync_alerts"].append(time.perf_counter() - t0)
        changed.append(res.changed)
        snapshot._cache = (object(), [])
        t0 = time.perf_counter()
        snapshot.current_alerts()
        resend["snapshot_reload"].append(time.perf_counter() - t0)
    out["resend"] = {k: stats_ms(v) for k, v in resend.items()}
    out["resend"]["changed"] = changed
    out["rss_mb"]["after_resend"] = rusage_mb()

    # Real churn: 1 % of the alerts resolve, then fire again; after each, the sync and the
    # snapshot update of a warm web process (this process's snapshot is loaded just above).
    payload = spec["alerts_payload"]
    k = max(1, len(payload) // 100)
    rng = random.Random(n)
    churn: dict[str, list] = {"sync_alerts": [], "snapshot_update": [], "changes": []}

    def am_count():
        return len(raw.get(f"{am}/api/v2/alerts", timeout=HTTP_TIMEOUT).json())

    for _ in range(spec["churn_reps"]):
        subset = rng.sample(payload, k)
        past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
        resolved = [{**a, "endsAt": past} for a in subset]
        for batch, expected in ((resolved, n - k), (with_fresh_ends(subset), n)):
            post_alerts(am, batch)
            wait_until(lambda e=expected: am_count() == e, 30, f"Alertmanager to list {expected}")
            t0 = time.perf_counter()
            res = sync_alerts()
            churn["sync_alerts"].append(time.perf_counter() - t0)
            churn["changes"].append(f"+{res.added} ~{res.changed} -{res.removed}")
            t0 = time.perf_counter()
            snapshot.current_alerts()
            churn["snapshot_update"].append(time.perf_counter() - t0)
    out["churn"] = {
        "alerts": k,
        "sync_alerts": stats_ms(churn["sync_alerts"]),
        "snapshot_update": stats_ms(churn["snapshot_update"]),
        "changes": churn["changes"],
    }
    return out


def child_profile(spec: dict) -> dict:
    """In-process view timings (Django test client, no HTTP server), cold snapshot loads,
    cProfile of the alerts page, and the audit query plan."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    from alertui.alerts import snapshot
    from alertui.alerts.models import Alert
    from alertui.audit.filters import AuditFilter
    from alertui.audit.models import AuditEvent

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(
        User.objects.get(username=spec["user"]), backend="django.contrib.auth.backends.ModelBackend"
    )
    out: dict = {}

    def get(path):
        r = client.get(path)
        if r.status_code != 200:
            raise BenchError(f"in-process GET {path}: {r.status_code}")
        return r

    # The snapshot a web process reloads after every sync that changed an alert.
    cold, fetch_rows = [], []
    for _ in range(5):
        snapshot._cache = (object(), [])
        t0 = time.perf_counter()
        snapshot.current_alerts()
        cold.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        list(Alert.objects.all().iterator(chunk_size=2000))
        fetch_rows.append(time.perf_counter() - t0)
    out["snapshot_reload"] = stats_ms(cold)
    out["snapshot_rows_only"] = stats_ms(fetch_rows)

    views = {}
    for name, path in PAGES:
        for _ in range(3):
            get(path)
        samples = []
        logs = []
        for _ in range(5):
            counter = QueryCounter()
            with connection.execute_wrapper(counter):
                get(path)
            logs.append(counter.log)
        # Per query of one request: the median time over 5 requests, and its SQL.
        per_query = [
            (
                1000 * percentile([log[i][0] for log in logs if len(log) > i], 50),
                logs[0][i][1][:220],
            )
            for i in range(len(logs[0]))
        ]
        for _ in range(spec["reps"]):
            t0 = time.perf_counter()
            get(path)
            samples.append(time.perf_counter() - t0)
        views[name] = {**stats_ms(samples), "queries": counter.count, "query_log": per_query}
    out["views"] = views

    profiles = {}
    for name, path in PAGES:
        if name not in spec["profile_pages"]:
            continue
        # CPU time, not wall time: on a shared machine, wall time would charge whatever function
        # happened to run when the scheduler took the CPU away.
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        for _ in range(10):
            get(path)
        profile.disable()
        profiles[name] = {
            "cumulative": _profile_text(profile, "cumulative", 40),
            "tottime": _profile_text(profile, "tottime", 25),
        }
    out["profiles"] = profiles

    # The audit filter: the count the paginator runs, the page itself, and PostgreSQL's plan.
    query = {"person": "alice", "action": ["expired"]}
    from django.http import QueryDict

    qd = QueryDict(mutable=True)
    qd.setlist("action", query["action"])
    qd["person"] = query["person"]
    flt = AuditFilter(
        qd, queryset=AuditEvent.objects.select_related("actor").order_by("-at", "-id")
    )
    qs = flt.qs
    timings = {"count": [], "first_page": []}
    for _ in range(10):
        t0 = time.perf_counter()
        total = qs.count()
        timings["count"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        list(qs[:50])
        timings["first_page"].append(time.perf_counter() - t0)
    out["audit_query"] = {k: stats_ms(v) for k, v in timings.items()}
    out["audit_query"]["matching_rows"] = total
    out["audit_query"]["total_rows"] = AuditEvent.objects.count()
    if connection.vendor == "postgresql":
        sql, params = qs.values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) SELECT COUNT(*) FROM ({sql}) sub", params)
            count_plan = "\n".join(row[0] for row in cursor.fetchall())
        out["audit_query"]["count_plan"] = count_plan
        out["audit_query"]["page_plan"] = qs[:50].explain(analyze=True)
    return out


CHILD_TASKS = {"seed": child_seed, "sync": child_sync, "profile": child_profile}


def child_main(task: str, spec_path: str, out_path: str) -> None:
    import django

    spec = json.loads(Path(spec_path).read_text())
    if task == "sync":
        spec["alerts_payload"] = json.loads(Path(spec["alerts_file"]).read_text())
    django.setup()
    result = CHILD_TASKS[task](spec)
    Path(out_path).write_text(json.dumps(result, default=str))


# -- web: gunicorn, login, pages, load ----------------------------------------------------------


def login(base: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    r = session.get(f"{base}/accounts/login/", timeout=HTTP_TIMEOUT)
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', r.text)
    if r.status_code != 200 or not match:
        raise BenchError(f"login page: {r.status_code}, no CSRF token")
    r = session.post(
        f"{base}/accounts/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": match.group(1),
            "next": "/alerts/",
        },
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    if r.status_code != 302 or "sessionid" not in session.cookies:
        raise BenchError(f"login failed: {r.status_code} {r.text[:300]}")
    return session


def timed_get(session: requests.Session, url: str) -> tuple[float, requests.Response]:
    t0 = time.perf_counter()
    r = session.get(url, timeout=HTTP_TIMEOUT, allow_redirects=False)
    _ = r.content
    elapsed = time.perf_counter() - t0
    if r.status_code != 200:
        raise BenchError(f"GET {url}: {r.status_code} (expected 200; session lost?)")
    return elapsed, r


def web_memory(master: int) -> dict:
    workers = child_pids(master)
    return {
        "master": proc_status(master),
        "workers": {str(pid): proc_status(pid) for pid in workers},
        "max_worker_hwm": max((proc_status(p).get("VmHWM", 0) for p in workers), default=0),
        "sum_hwm": sum(proc_status(p).get("VmHWM", 0) for p in [master, *workers]),
    }


_WRK_TIME = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}
_WRK_SIZE = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def _wrk_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise BenchError(f"cannot read wrk time {text!r}")
    return float(match.group(1)) * _WRK_TIME[match.group(2)]


def start_py_spy(pids: list[int], duration: int, tmpdir: Path) -> list[tuple[Proc, Path]]:
    """py-spy (if installed) sampling each gunicorn worker during the load test."""
    binary = shutil.which("py-spy") or str(VENV_BIN / "py-spy")
    if not Path(binary).exists():
        log("  --py-spy: py-spy not found (pip install py-spy into the venv); skipped")
        return []
    spies = []
    for pid in pids:
        raw = tmpdir / f"py-spy-{pid}.txt"
        cmd = [
            binary,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(duration),
            "--rate",
            "100",
            "--format",
            "raw",
            "--nonblocking",
            "--output",
            str(raw),
        ]
        spies.append((Proc(f"py-spy {pid}", cmd, tmpdir / f"py-spy-{pid}.log"), raw))
    return spies


def finish_py_spy(spies: list[tuple[Proc, Path]]) -> dict:
    """Inclusive and self shares of the samples, per function, over all workers."""
    inclusive, own, total = Counter(), Counter(), 0
    for proc, raw in spies:
        try:
            proc.wait(60)
        except BenchError as e:
            log(f"  py-spy: {e}")
        proc.stop()
        if not raw.exists():
            continue
        for line in raw.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]  # "fn (file:line)"
            total += n
            for frame in set(frames):
                inclusive[frame] += n
            if frames:
                own[frames[-1]] += n

    def top(counter, k):
        return [(f, 100.0 * c / max(1, total)) for f, c in counter.most_common(k)]

    return {"samples": total, "inclusive": top(inclusive, 45), "self": top(own, 30)}


def run_wrk(url: str, cookie: str, duration: int, concurrency: int, tmpdir: Path) -> dict:
    threads = max(1, min(2, concurrency))
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{concurrency}",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        "10s",
        "-H",
        f"Cookie: {cookie}",
        url,
    ]
    text = run_checked("wrk", cmd, tmpdir / "wrk.log", duration + 60)
    out = {"tool": f"wrk -t{threads} -c{concurrency} -d{duration}s", "raw": text.strip()}
    dist = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", text, re.M))
    out.update({f"p{k}": _wrk_ms(v) for k, v in dist.items()})
    match = re.search(r"(\d+) requests in ([\d.]+)(\w+), ([\d.]+)(\w+) read", text)
    if not match:
        raise BenchError(f"cannot read wrk output:\n{text}")
    out["requests"] = int(match.group(1))
    out["seconds"] = _wrk_ms(match.group(2) + match.group(3)) / 1000
    out["bytes"] = float(match.group(4)) * _WRK_SIZE[match.group(5)]
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    out["rps"] = float(rps.group(1)) if rps else out["requests"] / out["seconds"]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out["errors_http"] = int(non2xx.group(1)) if non2xx else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    out["errors_socket"] = sum(int(x) for x in sock.groups()) if sock else 0
    return out


def run_pyload(url: str, cookies: dict, duration: int, concurrency: int) -> dict:
    """Fallback load generator: `concurrency` threads, each with its own keep-alive session.
    It shares the 2 cores (and its own GIL) with the server, so it understates throughput."""
    deadline = time.monotonic() + duration

    def worker():
        session = requests.Session()
        session.cookies.update(cookies)
        latencies, codes, errors, size = [], Counter(), 0, 0
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            try:
                r = session.get(url, timeout=10, allow_redirects=False)
                size += len(r.content)
                codes[r.status_code] += 1
                latencies.append(time.perf_counter() - t0)
            except requests.RequestException:
                errors += 1
        return latencies, codes, errors, size

    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        results = [
            f.result(timeout=duration + 60)
            for f in [pool.submit(worker) for _ in range(concurrency)]
        ]
    seconds = time.monotonic() - started
    latencies = [v for r in results for v in r[0]]
    codes = sum((r[1] for r in results), Counter())
    s = stats_ms(latencies)
    return {
        "tool": f"python threads={concurrency} d={duration}s",
        "requests": len(latencies),
        "seconds": seconds,
        "rps": len(latencies) / seconds,
        "p50": s["p50"],
        "p90": s["p90"],
        "p99": s["p99"],
        "bytes": sum(r[3] for r in results),
        "errors_http": sum(v for k, v in codes.items() if k != 200),
        "errors_socket": sum(r[2] for r in results),
    }


def web_bench(env: dict, args, am_url: str, password: str, tmpdir: Path) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [
        str(VENV_BIN / "gunicorn"),
        "alertui.wsgi",
        "-w",
        "2",
        "--threads",
        "2",
        "-b",
        f"127.0.0.1:{port}",
    ]
    gunicorn = Proc("gunicorn", cmd, tmpdir / "gunicorn.log", env=env)
    out: dict = {"command": shlex.join(["gunicorn", *cmd[1:]])}
    try:

        def up():
            if not gunicorn.running():
                raise BenchError(f"gunicorn exited:\n{_tail(gunicorn.log_path)}")
            return requests.get(f"{base}/healthz", timeout=2).status_code == 200

        wait_until(up, 30, "gunicorn /healthz")
        wait_until(lambda: len(child_pids(gunicorn.pid)) >= 2, 30, "2 gunicorn workers")
        out["memory_idle"] = web_memory(gunicorn.pid)
        session = login(base, LOGIN_USER, password)
        cold, r = timed_get(session, f"{base}/alerts/")
        out["alerts_first_request_ms"] = cold * 1000
        raw = requests.Session()
        pages = {}
        for name, path in PAGES:
            url = base + path
            loadavg_before = loadavg()

            def prewarm(url=url):
                s = requests.Session()
                s.cookies.update(session.cookies)
                for _ in range(2):
                    timed_get(s, url)

            # Concurrent first requests reach both workers, so neither is measured cold.
            with ThreadPoolExecutor(4) as pool:
                for f in [pool.submit(prewarm) for _ in range(4)]:
                    f.result(timeout=600)
            for _ in range(args.warmup):
                timed_get(session, url)
                timed_get(raw, f"{am_url}/api/v2/alerts")
            page_samples, raw_samples, size = [], [], 0
            workers = child_pids(gunicorn.pid)
            cpu0 = proc_cpu_seconds(workers)
            for _ in range(args.reps):
                elapsed, _r = timed_get(raw, f"{am_url}/api/v2/alerts")
                raw_samples.append(elapsed)
                elapsed, r = timed_get(session, url)
                page_samples.append(elapsed)
                size = len(r.content)
            cpu_per_request = (proc_cpu_seconds(workers) - cpu0) / args.reps
            if "Log in to alertui" in r.text:
                raise BenchError(f"{path} answered with the login page")
            entry = {
                **stats_ms(page_samples),
                "cpu_ms": cpu_per_request * 1000,
                "bytes": size,
                "path": path,
                "raw_am": stats_ms(raw_samples),
                "loadavg": [loadavg_before, loadavg()],
            }
            shown = re.search(r"(\d+) alerts? in (\d+) groups?", r.text)
            if shown:
                entry["shown"] = f"{shown.group(1)} alerts in {shown.group(2)} groups"
            rows = r.text.count('<tr class="succeeded">') + r.text.count('<tr class="failed">')
            if name.startswith("audit"):
                entry["shown"] = f"{rows} rows on the page"
            pages[name] = entry
            log(
                f"  page {name}: p50 {entry['p50']:.1f} ms "
                f"(raw AM p50 {entry['raw_am']['p50']:.1f} ms)"
            )
        out["pages"] = pages
        out["memory_after_pages"] = web_memory(gunicorn.pid)

        # Throughput of /alerts/ under concurrent load.
        cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
        alerts_bytes = pages["alerts"]["bytes"]
        tool = args.load_tool
        if tool == "auto":
            tool = "wrk" if shutil.which("wrk") else "python"
        log(f"  load: {tool}, {args.load_duration}s, concurrency {args.load_concurrency}")
        out["load_loadavg_before"] = loadavg()
        workers = child_pids(gunicorn.pid)
        spies = start_py_spy(workers, args.load_duration, tmpdir) if args.py_spy else []
        cpu0 = proc_cpu_seconds(workers)
        if tool == "wrk":
            load = run_wrk(
                f"{base}/alerts/", cookie, args.load_duration, args.load_concurrency, tmpdir
            )
        else:
            load = run_pyload(
                f"{base}/alerts/",
                dict(session.cookies.items()),
                args.load_duration,
                args.load_concurrency,
            )
        load["loadavg_after"] = loadavg()
        if spies:
            out["py_spy"] = finish_py_spy(spies)
        load["worker_cpu_s"] = proc_cpu_seconds(workers) - cpu0
        load["cpu_ms_per_request"] = 1000 * load["worker_cpu_s"] / max(1, load["requests"])
        # What 2 workers could serve if they had every core to themselves (CPU-bound estimate).
        load["cpu_bound_rps"] = (
            (os.cpu_count() or 1) * 1000 / max(0.001, load["cpu_ms_per_request"])
        )
        load["bytes_per_request"] = load["bytes"] / max(1, load["requests"])
        load["page_bytes"] = alerts_bytes
        # A 302 to the login page would be tiny: check every answer was the full page.
        load["full_pages"] = abs(load["bytes_per_request"] - alerts_bytes) < 0.1 * alerts_bytes
        timed_get(session, f"{base}/alerts/")  # the session still works after the load
        out["load"] = load
        out["memory_after_load"] = web_memory(gunicorn.pid)
    finally:
        gunicorn.stop()
    return out


# -- Celery worker memory -------------------------------------------------------------------------

SYNC_TASKS = [
    "alertui.silences.tasks.sync_silences",
    "alertui.alerts.tasks.sync_alerts",
    "alertui.targets.tasks.sync_targets",
]


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

        def ready():
            if not worker.running():
                raise BenchError(f"celery worker exited:\n{_tail(worker.log_path)}")
            return " ready." in worker.log_path.read_text(errors="replace")

        wait_until(ready, 90, "celery worker ready")
        idle = proc_status(worker.pid)
        for _ in range(rounds):
            for task in SYNC_TASKS:
                app.send_task(task, queue=queue)

        def done():
            text = worker.log_path.read_text(errors="replace")
            if re.search(r"Task \S+\[[^\]]+\] (raised|retry)", text):
                raise BenchError(f"a sync task failed:\n{_tail(worker.log_path)}")
            return len(re.findall(r"Task \S+\[[^\]]+\] succeeded in", text)) >= rounds * 3

        wait_until(done, 900, f"{rounds * 3} sync tasks done", 0.5)
        text = worker.log_path.read_text(errors="replace")
        runs = [
            (name.rsplit(".", 1)[-1], float(sec) * 1000)
            for name, sec in re.findall(r"Task (\S+)\[[^\]]+\] succeeded in ([\d.]+)s", text)
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


# -- one alert count ---------------------------------------------------------------------------


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
    prom = PrometheusServer(tmpdir / "prometheus", ports)
    CLEANUP.push("stop Prometheus", prom.stop)
    prom.start()

    log(f"[{n} alerts] Alertmanager {AM_VERSION}")
    am = AlertmanagerProcess(AM_VERSION, tmpdir / "alertmanager", config=AM_CONFIG)
    CLEANUP.push("stop Alertmanager", am.stop)
    am.start()
    res["alertmanager_version"] = am.status().get("versionInfo", {}).get("version")
    alerts = make_alerts(n, seed=n)
    alerts_file = tmpdir / "alerts.json"
    alerts_file.write_text(json.dumps(alerts))
    t1 = time.monotonic()
    post_alerts(am.url, alerts)

    def loaded():
        r = requests.get(f"{am.url}/api/v2/alerts", timeout=HTTP_TIMEOUT)
        return len(r.json()) == n

    wait_until(loaded, 60, f"Alertmanager to list {n} alerts", 0.5)
    setup["post_alerts"] = time.monotonic() - t1
    t1 = time.monotonic()
    res["silences"] = post_silences(
        am.url, make_silences(alerts, args.silences, seed=n + 1), 0.1, seed=n + 2
    )
    setup["post_silences"] = time.monotonic() - t1
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
    t1 = time.monotonic()
    run_checked(
        "migrate",
        [PYTHON, "manage.py", "migrate", "--noinput"],
        tmpdir / "migrate.log",
        600,
        env=env,
    )
    setup["migrate"] = time.monotonic() - t1
    run_checked(
        "ensure_user",
        [
            PYTHON,
            "manage.py",
            "ensure_user",
            LOGIN_USER,
            "--password",
            password,
            "--role",
            "silencer",
        ],
        tmpdir / "ensure_user.log",
        120,
        env=env,
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
    res["celery"] = celery_bench(env, tmpdir)

    log(f"[{n} alerts] in-process views and profiles")
    res["profile"] = run_child(
        "profile",
        {
            "user": LOGIN_USER,
            "reps": max(10, args.reps // 2),
            "profile_pages": [
                "alerts",
                "alerts_group_namespace",
                "silences",
                "audit_filter",
                "targets",
            ],
        },
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


# -- report ------------------------------------------------------------------------------------


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def evaluate(res: dict) -> list[dict]:
    """The issue's targets as PASS/MISS rows, each measured within this run."""
    rows = []
    pages = res["web"]["pages"]
    sync = res["sync"]["steady"]
    alerts_p50 = pages["alerts"]["p50"]
    am_p50 = pages["alerts"]["raw_am"]["p50"]
    rows.append(
        {
            "target": "alerts page p50 <= 0.5 x raw Alertmanager GET p50",
            "measured": f"{alerts_p50:.1f} ms vs {am_p50:.1f} ms",
            "ratio": alerts_p50 / am_p50,
            "limit": f"<= {TARGET_PAGE_VS_AM}",
            "pass": alerts_p50 <= TARGET_PAGE_VS_AM * am_p50,
            "key": "page_vs_am",
        }
    )
    total, raw_all = sync["total"]["p50"], sync["raw_all"]["p50"]
    rows.append(
        {
            "target": "steady sync cycle p50 <= 1.5 x raw fetch-and-parse p50 (same 5 endpoints)",
            "measured": f"{total:.1f} ms vs {raw_all:.1f} ms",
            "ratio": total / raw_all,
            "limit": f"<= {TARGET_SYNC_VS_RAW}",
            "pass": total <= TARGET_SYNC_VS_RAW * raw_all,
            "key": "sync_vs_raw",
        }
    )
    alerts_sync, raw_alerts = sync["alerts"]["p50"], sync["raw_fetch_parse"]["p50"]
    rows.append(
        {
            "target": "(detail) steady sync_alerts p50 <= 1.5 x raw GET /api/v2/alerts + parse p50",
            "measured": f"{alerts_sync:.1f} ms vs {raw_alerts:.1f} ms",
            "ratio": alerts_sync / raw_alerts,
            "limit": f"<= {TARGET_SYNC_VS_RAW}",
            "pass": alerts_sync <= TARGET_SYNC_VS_RAW * raw_alerts,
            "key": "sync_alerts_vs_raw",
        }
    )
    audit = pages["audit_filter"]["p50"]
    rows.append(
        {
            "target": f"audit page, filter over {res['seed']['rows']:,} rows, p50 < 100 ms",
            "measured": f"{audit:.1f} ms",
            "ratio": audit / TARGET_AUDIT_MS,
            "limit": "< 100 ms",
            "pass": audit < TARGET_AUDIT_MS,
            "key": "audit",
        }
    )
    web = max(
        res["web"]["memory_after_load"]["max_worker_hwm"],
        res["web"]["memory_after_pages"]["max_worker_hwm"],
    )
    rows.append(
        {
            "target": "web process (gunicorn worker) peak RSS < 300 MB",
            "measured": f"{web:.0f} MB",
            "ratio": web / TARGET_WEB_MB,
            "limit": "< 300 MB",
            "pass": web < TARGET_WEB_MB,
            "key": "web_memory",
        }
    )
    load = res["web"]["load"]
    ok = load["rps"] >= TARGET_RPS and load["p99"] < TARGET_LOAD_P99_MS and load["full_pages"]
    ok = ok and not load["errors_http"] and not load["errors_socket"]
    rows.append(
        {
            "target": "/alerts/ under load: >= 50 req/s with p99 < 500 ms",
            "measured": f"{load['rps']:.1f} req/s, p99 {load['p99']:.0f} ms",
            "ratio": load["rps"] / TARGET_RPS,
            "limit": ">= 50 req/s, p99 < 500 ms",
            "pass": ok,
            "key": "load",
        }
    )
    return rows


def _why(key: str, res: dict) -> str:
    """A first explanation for a miss, from numbers of the same run (profiles are below)."""
    web, sync, prof = res["web"], res["sync"], res["profile"]
    if key == "page_vs_am":
        v = prof["views"]["alerts"]
        return (
            f"worker CPU {web['pages']['alerts'].get('cpu_ms', 0):.1f} ms per request; "
            f"in-process view alone (no HTTP) p50 {v['p50']:.1f} ms with {v['queries']} "
            f"queries; page is {web['pages']['alerts']['bytes'] / 1024:.0f} KiB. "
            "See the alerts-page profile."
        )
    if key in ("sync_vs_raw", "sync_alerts_vs_raw"):
        s = sync["steady"]
        return (
            f"steady phases p50: silences {s['silences']['p50']:.0f} ms, alerts "
            f"{s['alerts']['p50']:.0f} ms, targets {s['targets']['p50']:.0f} ms; queries "
            f"per phase {sync['steady_queries']}. See the steady-sync profile."
        )
    if key == "audit":
        q = prof["audit_query"]
        return (
            f"count(*) p50 {q['count']['p50']:.1f} ms and first page p50 "
            f"{q['first_page']['p50']:.1f} ms over {q['matching_rows']} matching rows; "
            "plans below."
        )
    if key == "web_memory":
        return "see the per-worker VmHWM table and the snapshot size."
    if key == "load":
        ld = web["load"]
        return (
            f"each request cost {ld['cpu_ms_per_request']:.1f} ms of worker CPU under load "
            f"(in-process view p50 {prof['views']['alerts']['p50']:.1f} ms), so 2 cores cap the "
            f"workers at ~{ld['cpu_bound_rps']:.0f} req/s even with the machine to themselves; "
            "other work on the machine takes its share on top."
        )
    return ""


def _stat_row(label: str, s: dict, extra: str = "") -> str:
    return (
        f"| {label} | {_fmt(s['p50'])} | {_fmt(s['p90'])} | {_fmt(s['p99'])} | "
        f"{_fmt(s['max'])} | {s['n']} | {extra} |"
    )


def render_markdown(report: dict) -> str:
    m = report["meta"]
    out = [f"# alertui benchmark, {m['date']}", ""]
    out += [
        f"- Command: `{m['command']}`",
        f"- Date (UTC): {m['date']}; duration {m['duration_s']:.0f} s",
        f"- Machine: {m['machine']['nproc']} CPUs ({m['machine']['cpu']}), "
        f"{m['machine']['mem_total_mb']:.0f} MB RAM, kernel {m['machine']['kernel']}",
        f"- Other work on the machine: CPUs {m['busy_start']:.0f}% busy in the 2 s before the "
        f"run started (nothing of the benchmark running), {m.get('busy_end', -1):.0f}% after it "
        f"ended; load average at start / end: {m['loadavg_start']} / {m['loadavg_end']}",
        f"- Code: git {m['git']['commit']}{' + uncommitted changes' if m['git']['dirty'] else ''}"
        + (f" ({', '.join(m['git']['dirty'])})" if m["git"]["dirty"] else ""),
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        f"- Database: {m['db']}; repetitions: {m['reps']} after {m['warmup']} warm-ups; "
        f"load: {m['load']}",
    ]
    if m.get("note"):
        out += [f"- Note: {m['note']}"]
    out += ["", "## Targets", ""]
    out += [
        "| alerts | target | measured | ratio | limit | result |",
        "|---:|---|---|---:|---|---|",
    ]
    for res in report["runs"]:
        for row in res["checks"]:
            out.append(
                f"| {res['alerts']:,} | {row['target']} | {row['measured']} | "
                f"{_fmt(row['ratio'], 2)} | {row['limit']} | "
                f"{'PASS' if row['pass'] else '**MISS**'} |"
            )
    out += [
        "",
        "Ratio: page / Alertmanager and sync / raw for the relative targets; measured / "
        "limit for the audit page and memory; req/s / 50 for the load (>= 1 passes).",
        "",
    ]
    misses = [(res, row) for res in report["runs"] for row in res["checks"] if not row["pass"]]
    if misses:
        out += ["", "Why each miss (numbers from the same run):", ""]
        for res, row in misses:
            out.append(f"- {res['alerts']:,} alerts, {row['target']}: {row['why']}")
    for res in report["runs"]:
        n = res["alerts"]
        sync, web, prof = res["sync"], res["web"], res["profile"]
        out += ["", f"## {n:,} alerts", ""]
        code = res.get("code", {})
        if code:
            same = code.get("start") == code.get("end")
            out += [
                f"Code measured: git {code.get('git_start')}, files hash {code.get('start')}"
                + (
                    " (unchanged during this count)."
                    if same
                    else f"; **the code changed during this count** (git {code.get('git_end')},"
                    f" hash {code.get('end')}): its numbers mix two versions."
                ),
                "",
            ]
        out += [
            f"Alertmanager {res['alertmanager_version']}: {n:,} alerts "
            f"(states {res['alert_states']}, {res['alerts_silenced']} silenced), "
            f"{res['silences']['created']} silences ({res['silences']['expired']} expired). "
            f"Prometheus: {res['prometheus']['down']} targets down "
            f"({res['prometheus']['connection_refused']} connection refused). "
            f"Audit: {res['seed']['rows']:,} rows ({res['seed']['alice_expired']} match "
            f"person=alice&action=expired). Setup seconds: "
            + ", ".join(f"{k} {v:.1f}" for k, v in res["setup_seconds"].items())
            + f". Load average: {res['loadavg']}.",
            "",
            "### Alertmanager reference and sync (in-process, after django.setup())",
            "",
            "| measurement (ms) | p50 | p90 | p99 | max | n | notes |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        s = sync["steady"]
        out.append(
            _stat_row(
                "raw GET /api/v2/alerts, fetch only",
                s["raw_fetch"],
                f"{sync['raw_alerts_bytes'] / 1024:.0f} KiB",
            )
        )
        out.append(_stat_row("raw GET /api/v2/alerts, fetch + json parse", s["raw_fetch_parse"]))
        out.append(
            _stat_row(
                "raw fetch + parse of all 5 sync endpoints",
                s["raw_all"],
                f"{sync['raw_all_bytes'] / 1024:.0f} KiB: AM silences, alerts; "
                "Prometheus targets, scrape_pools, rules",
            )
        )
        for phase in ("silences", "alerts", "targets", "total"):
            q = sync["steady_queries"].get(phase)
            out.append(
                _stat_row(
                    f"steady sync_{phase}" if phase != "total" else "steady full sync cycle",
                    s[phase],
                    f"{q} queries" if q is not None else "",
                )
            )
        out.append(
            _stat_row(
                "steady full sync cycle, CPU time of the sync process",
                s["total_cpu"],
                "process_time(); the rest of the wall time is waiting on HTTP, DB, Redis",
            )
        )
        f = sync["first"]
        out.append(
            f"| first sync (one run): silences {f['seconds']['silences'] * 1000:.0f}, alerts "
            f"{f['seconds']['alerts'] * 1000:.0f}, targets {f['seconds']['targets'] * 1000:.0f},"
            f" total | {f['seconds']['total'] * 1000:.0f} | | | | 1 | {f['silences_seen']} "
            f"silences seen, {f['audit_recorded']} audit rows recorded, {f['alerts_added']} "
            f"alerts added, {f['targets_failing']} targets failing |"
        )
        r = sync["resend"]
        out.append(
            _stat_row(
                "sync_alerts right after Prometheus-style re-send of every alert",
                r["sync_alerts"],
                f"changed per run: {r['changed']}",
            )
        )
        out.append(
            _stat_row(
                "full snapshot load (forced) in-process",
                r["snapshot_reload"],
                "what a web worker pays on its first request (or after any reset)",
            )
        )
        ch = sync.get("churn")
        if ch:
            out.append(
                _stat_row(
                    f"sync_alerts after {ch['alerts']} alerts (1 %) resolved or fired again",
                    ch["sync_alerts"],
                    "changes: " + ", ".join(ch["changes"]),
                )
            )
            out.append(
                _stat_row(
                    "then: snapshot update in a warm web process",
                    ch["snapshot_update"],
                    "current_alerts() on the next request after such a sync",
                )
            )
        out.append("")
        out.append(f"Steady runs recorded/changed nothing: {sync['steady_changes']}.")
        out += ["", "### Pages (gunicorn -w 2 --threads 2, logged in, keep-alive)", ""]
        out += [
            "| page | p50 | p90 | p99 | max | n | size | raw AM GET p50 alongside | "
            "page / AM | worker CPU per request | in-process view p50 | queries | shown |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for name, _path in PAGES:
            p = web["pages"][name]
            v = prof["views"][name]
            out.append(
                f"| `{p['path']}` | {_fmt(p['p50'])} | {_fmt(p['p90'])} | {_fmt(p['p99'])} | "
                f"{_fmt(p['max'])} | {p['n']} | {p['bytes'] / 1024:.0f} KiB | "
                f"{_fmt(p['raw_am']['p50'])} | {p['p50'] / p['raw_am']['p50']:.2f} | "
                f"{_fmt(p.get('cpu_ms'))} | {_fmt(v['p50'])} | {v['queries']} | "
                f"{p.get('shown', '')} |"
            )
        out += [
            "",
            f"First /alerts/ request after gunicorn started (snapshot load in that worker): "
            f"{web['alerts_first_request_ms']:.0f} ms. Snapshot reload in-process: p50 "
            f"{prof['snapshot_reload']['p50']:.0f} ms (reading the rows alone "
            f"{prof['snapshot_rows_only']['p50']:.0f} ms).",
            "",
            "### Memory (peak RSS = VmHWM)",
            "",
            "| process | peak RSS MB | notes |",
            "|---|---:|---|",
        ]
        for label, key in (
            ("after pages", "memory_after_pages"),
            ("after load", "memory_after_load"),
        ):
            mem = web[key]
            for pid, st in mem["workers"].items():
                out.append(
                    f"| gunicorn worker {pid} ({label}) | {_fmt(st.get('VmHWM'))} | "
                    f"RSS now {_fmt(st.get('VmRSS'))} |"
                )
            out.append(
                f"| gunicorn master + workers, sum ({label}) | {mem['sum_hwm']:.0f} | "
                f"master {_fmt(mem['master'].get('VmHWM'))} |"
            )
        idle = web["memory_idle"]
        out.append(f"| gunicorn worker, idle after start (max) | {idle['max_worker_hwm']:.0f} | |")
        c = res["celery"]
        out.append(
            f"| Celery worker (--pool solo), 3 rounds of the 3 sync tasks | "
            f"{_fmt(c['after_sync'].get('VmHWM'))} | idle {_fmt(c['idle'].get('VmHWM'))}; task "
            f"ms: {', '.join(f'{t} {ms:.0f}' for t, ms in c['task_ms'])} |"
        )
        rss = sync["rss_mb"]
        out.append(
            f"| in-process sync (getrusage ru_maxrss) | {rss['after_steady']:.0f} | after "
            f"django.setup {rss['after_setup']:.0f}, after first sync "
            f"{rss['after_first_sync']:.0f}, after resend {rss['after_resend']:.0f} |"
        )
        ld = web["load"]
        out += [
            "",
            "### /alerts/ under load",
            "",
            f"{ld['tool']}: {ld['requests']} requests in {ld['seconds']:.1f} s = "
            f"**{ld['rps']:.1f} req/s**; latency p50 {_fmt(ld.get('p50'))} ms, p90 "
            f"{_fmt(ld.get('p90'))} ms, p99 **{_fmt(ld.get('p99'))} ms**; HTTP errors "
            f"{ld['errors_http']}, socket errors {ld['errors_socket']}; "
            f"{ld['bytes_per_request'] / 1024:.0f} KiB per answer "
            f"(page {ld['page_bytes'] / 1024:.0f}"
            f" KiB: {'all full pages' if ld['full_pages'] else 'NOT all full pages'}). Load average"
            f" before / after: {web['load_loadavg_before']} / {ld['loadavg_after']}.",
            "",
            f"The 2 workers used {ld['worker_cpu_s']:.1f} CPU-seconds: "
            f"{ld['cpu_ms_per_request']:.1f} ms of CPU per request, so with both cores to "
            f"themselves they could serve at most ~{ld['cpu_bound_rps']:.0f} req/s "
            "(CPU-bound estimate; the database and the load generator need CPU too).",
        ]
        spy = web.get("py_spy")
        if spy:
            out += [
                "",
                "<details><summary>py-spy of both gunicorn workers during the load test "
                f"({spy['samples']} samples)</summary>",
                "",
                "```",
                "inclusive %  function",
            ]
            out += [f"{pct:10.1f}  {frame}" for frame, pct in spy["inclusive"]]
            out += ["", "self %      function"]
            out += [f"{pct:10.1f}  {frame}" for frame, pct in spy["self"]]
            out += ["```", "", "</details>"]
        aq = prof["audit_query"]
        out += [
            "",
            "### Audit filter query (in-process)",
            "",
            f"{aq['matching_rows']} of {aq['total_rows']} rows match; count(*) p50 "
            f"{aq['count']['p50']:.1f} ms, first page of 50 p50 {aq['first_page']['p50']:.1f} ms.",
        ]
        if aq.get("count_plan"):
            out += [
                "",
                "<details><summary>PostgreSQL plans</summary>",
                "",
                "```",
                aq["count_plan"],
                "",
                aq["page_plan"],
                "```",
                "",
                "</details>",
            ]
        out += ["", "### Profiles", ""]
        out += [
            "<details><summary>steady sync cycle (cProfile, wall time, cumulative)</summary>",
            "",
            "```",
            sync["steady_profile"].rstrip(),
            "```",
            "",
            "</details>",
        ]
        out += [
            "",
            "<details><summary>SQL of one request per page (median ms of 5 requests, "
            "in-process)</summary>",
            "",
            "```",
        ]
        for name, _path in PAGES:
            qlog = prof["views"][name].get("query_log", [])
            out.append(f"{name}: {sum(ms for ms, _ in qlog):.1f} ms in {len(qlog)} queries")
            out += [f"  {ms:7.2f}  {sql}" for ms, sql in qlog]
        out += ["```", "", "</details>", ""]
        for name, texts in prof["profiles"].items():
            out += [
                f"<details><summary>{name} page, 10 requests in-process "
                "(cProfile, CPU time)</summary>",
                "",
                "```",
                texts["cumulative"].rstrip(),
                "",
                texts["tottime"].rstrip(),
                "```",
                "",
                "</details>",
                "",
            ]
    return "\n".join(out) + "\n"


# -- main --------------------------------------------------------------------------------------


def code_fingerprint() -> str:
    """A hash of the application code as it is on disk (committed or not), to notice code that
    changes while a run is going on."""
    import hashlib

    digest = hashlib.sha1()
    for folder in ("alertui", "templates", "static"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


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


def versions() -> dict:
    from importlib.metadata import version

    out = {"Python": platform.python_version()}
    for pkg in ("Django", "psycopg", "gunicorn", "celery", "requests", "django-filter"):
        try:
            out[pkg] = version(pkg)
        except Exception:  # noqa: BLE001
            out[pkg] = "?"
    out["PostgreSQL"] = postgres_version()
    out["SQLite"] = sqlite3.sqlite_version
    binary = "/usr/bin/prometheus-alertmanager"
    try:
        am = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
        out["Alertmanager"] = re.search(r"version (\S+)", am.stdout + am.stderr).group(1)
    except (OSError, subprocess.SubprocessError, AttributeError):
        out["Alertmanager"] = "?"
    prom = re.search(r"version (\S+)", prometheus_version())
    out["Prometheus"] = prom.group(1) if prom else "?"
    if shutil.which("wrk"):
        w = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=10)
        ver = re.search(r"wrk (\S+)", w.stdout + w.stderr)
        out["wrk"] = ver.group(1) if ver else "?"
    return out


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
        path = Path(args.render)
        path.with_suffix(".md").write_text(render_markdown(json.loads(path.read_text())))
        return 0
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    atexit.register(CLEANUP.run)

    started = time.monotonic()
    now = datetime.now(UTC)
    out = (
        Path(args.out)
        if args.out
        else ROOT / "bench" / "results" / f"{now:%Y%m%d-%H%M}-{args.db}.md"
    )
    if out.suffix != ".md":
        out = out.with_suffix(".md")
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "command": shlex.join(
            [
                os.path.relpath(sys.executable, ROOT)
                if sys.executable.startswith(str(ROOT))
                else sys.executable,
                *sys.argv,
            ]
        ),
        "date": now.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine(),
        "versions": versions(),
        "git": git_state(),
        "db": args.db,
        "reps": args.reps,
        "warmup": args.warmup,
        "load": f"{args.load_tool}, {args.load_duration}s, concurrency {args.load_concurrency}",
        "note": args.note,
        "loadavg_start": loadavg(),
        "busy_start": machine_busy(),
    }
    log(f"results will go to {out} and {out.with_suffix('.json')}")

    tmp_root = Path(tempfile.mkdtemp(prefix="alertui-bench-"))
    if not args.keep_tmp:
        CLEANUP.push("remove temp dir", lambda: shutil.rmtree(tmp_root, ignore_errors=True))
    static_root = ROOT / "staticfiles"  # settings.STATIC_ROOT, not overridable
    runs = []
    try:
        clear_redis_keys()
        CLEANUP.push("clear Redis keys", clear_redis_keys)
        if not static_root.exists():
            CLEANUP.push(
                "remove staticfiles/", lambda: shutil.rmtree(static_root, ignore_errors=True)
            )
        env = django_env(
            "sqlite:///" + str(tmp_root / "collectstatic.sqlite3"),
            "http://127.0.0.1:9",
            "http://127.0.0.1:9",
            "collectstatic",
        )
        run_checked(
            "collectstatic",
            [PYTHON, "manage.py", "collectstatic", "--noinput"],
            tmp_root / "collectstatic.log",
            300,
            env=env,
        )
        ports = closed_ports(args.targets)
        for n in args.alerts:
            res = bench_count(n, args, tmp_root, ports)
            res["checks"] = evaluate(res)
            for row in res["checks"]:
                row["why"] = "" if row["pass"] else _why(row["key"], res)
            runs.append(res)
            meta.update(duration_s=time.monotonic() - started, loadavg_end=loadavg())
            _write(out, {"meta": meta, "runs": runs})  # what is done so far
    except BaseException:
        log(f"benchmark failed; logs in {tmp_root}" + ("" if args.keep_tmp else " (removed)"))
        raise
    finally:
        CLEANUP.run()
    meta["duration_s"] = time.monotonic() - started
    meta["loadavg_end"] = loadavg()
    meta["busy_end"] = machine_busy()
    report = {"meta": meta, "runs": runs}
    _write(out, report)
    log(f"wrote {out} and {out.with_suffix('.json')}")
    print(render_markdown_targets(report))
    return 0


def _write(out: Path, report: dict) -> None:
    out.with_suffix(".json").write_text(json.dumps(report, indent=1, default=str))
    out.write_text(render_markdown(report))


def render_markdown_targets(report: dict) -> str:
    lines = []
    for res in report["runs"]:
        for row in res["checks"]:
            lines.append(
                f"{res['alerts']:>6} {'PASS' if row['pass'] else 'MISS'}  "
                f"{row['target']}: {row['measured']}"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
