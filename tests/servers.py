"""Start real Alertmanager processes for tests, and find the Prometheus binaries.

Versions under test:
- Alertmanager 0.25 and Prometheus 2.42 come from Debian bookworm, installed in /usr/bin.
- Alertmanager 0.28 / Prometheus 2.53 (trixie) and Alertmanager 0.33 / Prometheus 3.5 (sid) are
  unpacked by scripts/fetch-upstream-versions.sh into $ALERTUI_BIN_CACHE
  (default ~/.cache/alertui/bin). A missing binary is an error, not a skip: CI must fetch them.

Every HTTP call made here has a timeout, so a stuck server fails a test instead of hanging it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

FETCH_SCRIPT = "scripts/fetch-upstream-versions.sh"
HTTP_TIMEOUT = 5  # seconds, for every request made by these helpers
START_TIMEOUT = 20  # seconds to wait for a started Alertmanager to answer
STOP_TIMEOUT = 5  # seconds between SIGTERM and SIGKILL

ALERTMANAGER_VERSIONS = ("0.25", "0.28", "0.33")
PROMETHEUS_VERSIONS = ("2.42", "2.53", "3.5")

# version -> (Debian suite, path of the binary below the suite's root)
_ALERTMANAGER_SOURCES = {
    "0.25": ("bookworm", "usr/bin/prometheus-alertmanager"),
    "0.28": ("trixie", "usr/bin/prometheus-alertmanager"),
    "0.33": ("sid", "usr/bin/prometheus-alertmanager"),
}
_PROMETHEUS_SOURCES = {
    "2.42": ("bookworm", "usr/bin/prometheus"),
    "2.53": ("trixie", "usr/bin/prometheus"),
    "3.5": ("sid", "usr/bin/prometheus"),
}

MINIMAL_CONFIG = """\
route:
  receiver: "null"
  group_by: ["alertname"]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: "null"
"""


class BinaryMissing(RuntimeError):
    pass


class ServerFailed(RuntimeError):
    """A server did not start, or stopped answering; the message carries its log."""


def bin_cache() -> Path:
    return Path(os.environ.get("ALERTUI_BIN_CACHE") or Path.home() / ".cache/alertui/bin")


def _binary(kind: str, sources: dict[str, tuple[str, str]], version: str) -> Path:
    if version not in sources:
        raise ValueError(f"unknown {kind} version {version!r}; known: {', '.join(sources)}")
    suite, relative = sources[version]
    path = Path("/") / relative if suite == "bookworm" else bin_cache() / suite / relative
    if not (path.is_file() and os.access(path, os.X_OK)):
        if suite == "bookworm":
            hint = f"install the Debian package ({Path(relative).name})"
        else:
            hint = f"run {FETCH_SCRIPT} (it unpacks Debian {suite}'s build into {bin_cache()})"
        raise BinaryMissing(f"{kind} {version} not found at {path}: {hint}")
    return path


def alertmanager_binary(version: str) -> Path:
    return _binary("Alertmanager", _ALERTMANAGER_SOURCES, version)


def prometheus_binary(version: str) -> Path:
    return _binary("Prometheus", _PROMETHEUS_SOURCES, version)


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def make_alert(
    labels: dict[str, str],
    annotations: dict[str, str] | None = None,
    ends_in: timedelta = timedelta(hours=1),
) -> dict[str, Any]:
    """A postable alert that stays firing for `ends_in` (Alertmanager drops ended alerts)."""
    now = datetime.now(UTC)
    return {
        "labels": labels,
        "annotations": annotations or {},
        "startsAt": now.isoformat().replace("+00:00", "Z"),
        "endsAt": (now + ends_in).isoformat().replace("+00:00", "Z"),
        "generatorURL": "http://prometheus.test/graph",
    }


def push_alerts(url: str, alerts: list[dict[str, Any]]) -> None:
    """POST /api/v2/alerts, as Prometheus does; raises with Alertmanager's answer on failure."""
    response = requests.post(f"{url}/api/v2/alerts", json=alerts, timeout=HTTP_TIMEOUT)
    if response.status_code != 200:
        raise ServerFailed(f"POST {url}/api/v2/alerts: {response.status_code} {response.text}")


class AlertmanagerProcess:
    """One real Alertmanager on 127.0.0.1, with its own config, storage and log in `tmpdir`.

    HA is off unless `cluster_peers` is given (a list of "host:port" cluster addresses, which
    may be filled in before start()); the process's own cluster address is `cluster_address`.
    Ports are chosen once, so restart() keeps the URL and the silences stored on disk.
    """

    def __init__(
        self,
        version: str,
        tmpdir: Path | str,
        cluster_peers: list[str] | None = None,
        config: str = MINIMAL_CONFIG,
        extra_args: tuple[str, ...] = (),
    ):
        self.version = version
        self.extra_args = tuple(extra_args)
        self.binary = alertmanager_binary(version)
        self.tmpdir = Path(tmpdir)
        self.config_path = self.tmpdir / "alertmanager.yml"
        self.storage_path = self.tmpdir / "data"
        self.log_path = self.tmpdir / "alertmanager.log"
        self.config = config
        self.port = free_port()
        self.cluster_peers = cluster_peers
        self.cluster_port = free_port() if cluster_peers is not None else None
        self.process: subprocess.Popen | None = None

    def __repr__(self) -> str:
        return f"<AlertmanagerProcess {self.version} {self.url}>"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def cluster_address(self) -> str | None:
        return f"127.0.0.1:{self.cluster_port}" if self.cluster_port else None

    def command(self) -> list[str]:
        cmd = [
            str(self.binary),
            f"--config.file={self.config_path}",
            f"--storage.path={self.storage_path}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=debug",
            *self.extra_args,
        ]
        if self.cluster_port is None:
            cmd.append("--cluster.listen-address=")  # empty: HA off
        else:
            cmd.append(f"--cluster.listen-address={self.cluster_address}")
            cmd.append("--cluster.settle-timeout=0s")
            cmd += [f"--cluster.peer={peer}" for peer in self.cluster_peers or ()]
        return cmd

    def start(self) -> AlertmanagerProcess:
        if self.running:
            raise RuntimeError(f"{self!r} is already running")
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        self.storage_path.mkdir(exist_ok=True)
        self.config_path.write_text(self.config)
        with open(self.log_path, "ab") as log:
            log.write(f"--- starting: {' '.join(self.command())}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        last_error = "no attempt"
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                raise ServerFailed(
                    f"Alertmanager {self.version} exited (code {code}) before answering.\n"
                    f"Log {self.log_path}:\n{_tail(self.log_path)}"
                )
            try:
                response = requests.get(f"{self.url}/api/v2/status", timeout=1)
                if response.status_code == 200:
                    return
                last_error = f"{response.status_code} {response.text[:200]}"
            except requests.RequestException as e:
                last_error = str(e)
            time.sleep(0.1)
        raise ServerFailed(
            f"Alertmanager {self.version} did not answer at {self.url} within {timeout:g}s "
            f"(last: {last_error}).\nLog {self.log_path}:\n{_tail(self.log_path)}"
        )

    def wait_for_peers(self, count: int, timeout: float = START_TIMEOUT) -> None:
        """Wait until /api/v2/status lists `count` cluster peers (this node included)."""
        deadline = time.monotonic() + timeout
        peers: list = []
        while time.monotonic() < deadline:
            status = self.status()
            peers = (status.get("cluster") or {}).get("peers") or []
            if len(peers) >= count:
                return
            time.sleep(0.2)
        raise ServerFailed(
            f"Alertmanager {self.url} sees {len(peers)} cluster peers, not {count}.\n"
            f"Log {self.log_path}:\n{_tail(self.log_path)}"
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM (Alertmanager then writes its silences to disk), SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)

    def restart(self) -> None:
        """Stop and start again on the same port with the same storage."""
        self.stop()
        self.start()

    def __enter__(self) -> AlertmanagerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- raw API helpers, independent of the client under test -----------------------------

    def status(self) -> dict[str, Any]:
        response = requests.get(f"{self.url}/api/v2/status", timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        return response.json()

    def push_alerts(self, alerts: list[dict[str, Any]]) -> None:
        push_alerts(self.url, alerts)

    def raw_silences(self) -> list[dict[str, Any]]:
        response = requests.get(f"{self.url}/api/v2/silences", timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        return response.json()


def start_cluster(version: str, tmpdir: Path | str, size: int = 2) -> list[AlertmanagerProcess]:
    """`size` Alertmanagers gossiping with each other; returns them started and joined."""
    tmpdir = Path(tmpdir)
    members = [
        AlertmanagerProcess(version, tmpdir / f"peer{i}", cluster_peers=[]) for i in range(size)
    ]
    for member in members:
        member.cluster_peers = [m.cluster_address for m in members if m is not member]
    try:
        for member in members:
            member.start()
        for member in members:
            member.wait_for_peers(size)
    except BaseException:
        for member in members:
            member.stop()
        raise
    return members
