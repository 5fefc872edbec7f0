"""The servers alertui reads, started fresh for each alert count: Prometheus 2.42 with failing
targets, and Alertmanager 0.25 (tests/servers.py) with a `null` receiver."""

from __future__ import annotations

import math
import socket
from pathlib import Path

import requests

from tests.servers import AlertmanagerProcess, free_port, prometheus_binary

from .alertmanager_data import CLUSTERS
from .config import AM_VERSION, PROMETHEUS_VERSION, BenchError
from .processes import CLEANUP, Proc, wait_until

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

TARGET_JOBS = ["node-exporter", "kube-state-metrics", "cadvisor", "app-metrics", "blackbox"]


def start_alertmanager(tmpdir: Path) -> AlertmanagerProcess:
    am = AlertmanagerProcess(AM_VERSION, tmpdir, config=AM_CONFIG)
    CLEANUP.push("stop Alertmanager", am.stop)
    am.start()
    return am


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
        cmd = [
            str(prometheus_binary(PROMETHEUS_VERSION)),
            f"--config.file={config}",
            f"--storage.tsdb.path={self.tmpdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]
        self.proc = Proc("Prometheus", cmd, self.tmpdir / "prometheus.log")
        self.proc.wait_ready(
            lambda: requests.get(f"{self.url}/-/ready", timeout=2).status_code == 200,
            30,
            "Prometheus /-/ready",
        )
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


def start_prometheus(tmpdir: Path, ports: list[int]) -> PrometheusServer:
    prom = PrometheusServer(tmpdir, ports)
    CLEANUP.push("stop Prometheus", prom.stop)
    return prom.start()
