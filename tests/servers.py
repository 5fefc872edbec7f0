"""Start real Alertmanager and Prometheus processes for tests.

Versions under test, each Debian's build of one suite, unpacked by
scripts/fetch-upstream-versions.sh into $ALERTUI_BIN_CACHE/<suite> (default
~/.cache/alertui/bin), the same on every host whatever it has installed:
- Alertmanager 0.25 / Prometheus 2.42 (bookworm), 0.28 / 2.53 (trixie), 0.33 / 3.5 (sid).
A missing binary, or one that reports another version, is an error, not a skip: CI must fetch
them. The pytest header lists each binary with its own --version line (binaries_report()).

Every HTTP call made here has a timeout, so a stuck server fails a test instead of hanging it.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import socket
import subprocess
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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


@functools.cache
def _version_line(path: Path) -> str:
    """The first line `path --version` prints, e.g. "alertmanager, version 0.25.0 (...)"."""
    try:
        done = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=HTTP_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"(does not run: {e})"
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[0] if lines else f"(printed nothing; exit code {done.returncode})"


def _binary(kind: str, sources: dict[str, tuple[str, str]], version: str) -> Path:
    if version not in sources:
        raise ValueError(f"unknown {kind} version {version!r}; known: {', '.join(sources)}")
    suite, relative = sources[version]
    path = bin_cache() / suite / relative
    fetch = f"run {FETCH_SCRIPT} (it unpacks Debian {suite}'s build into {bin_cache()})"
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise BinaryMissing(f"{kind} {version} not found at {path}: {fetch}")
    reported = _version_line(path)
    if not re.search(rf"\bversion {re.escape(version)}\.", reported):
        raise BinaryMissing(
            f"{kind} at {path} should be {version} (Debian {suite}) but reports: {reported}. "
            f"If Debian {suite} moved on, the version matrix in tests/servers.py must follow."
        )
    return path


def binaries_report() -> list[str]:
    """One line per version under test: the binary used and what it says it is."""
    lines = []
    for kind, sources in (
        ("Alertmanager", _ALERTMANAGER_SOURCES),
        ("Prometheus", _PROMETHEUS_SOURCES),
    ):
        for version, (suite, relative) in sources.items():
            path = bin_cache() / suite / relative
            said = _version_line(path) if path.is_file() else f"missing: run {FETCH_SCRIPT}"
            lines.append(f"{kind} {version} ({suite}): {path}: {said}")
    return lines


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


class ServerProcess:
    """A server binary run by the tests: config written to `tmpdir`, output in a log file,
    started and waited for until `ready_path` answers 200, stopped with SIGTERM (so it saves
    its state) and SIGKILL if it lingers. Subclasses set `kind` and `ready_path` and provide
    command(); `_prepare()` writes their files, `_after_stop()` releases what they hold."""

    kind = "server"
    ready_path = "/"
    env: dict[str, str] | None = None  # the process's environment; None: this one's
    # A server started with --web.config.file (TLS, basic auth) is reached with "https" and
    # these requests options (auth, verify, cert) by the helpers here.
    scheme = "http"
    request_options: dict[str, Any] = {}

    process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def _prepare(self) -> None:
        pass

    def _after_stop(self) -> None:
        pass

    def start(self):
        if self.running:
            raise RuntimeError(f"{self!r} is already running")
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        self.storage_path.mkdir(exist_ok=True)
        self._prepare()
        with open(self.log_path, "ab") as log:
            log.write(f"--- starting: {' '.join(self.command())}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
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
                    f"{self.kind} {self.version} exited (code {code}) before answering.\n"
                    f"Log {self.log_path}:\n{_tail(self.log_path)}"
                )
            try:
                response = requests.get(
                    f"{self.url}{self.ready_path}", timeout=1, **self.request_options
                )
                if response.status_code == 200:
                    return
                last_error = f"{response.status_code} {response.text[:200]}"
            except requests.RequestException as e:
                last_error = str(e)
            time.sleep(0.1)
        raise ServerFailed(
            f"{self.kind} {self.version} was not ready at {self.url} within {timeout:g}s "
            f"(last: {last_error}).\nLog {self.log_path}:\n{_tail(self.log_path)}"
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        process, self.process = self.process, None
        try:
            if process is None or process.poll() is not None:
                return
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        finally:
            self._after_stop()

    def restart(self) -> None:
        """Stop and start again on the same port with the same storage."""
        self.stop()
        self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class AlertmanagerProcess(ServerProcess):
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
        return f"{self.scheme}://127.0.0.1:{self.port}"

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

    kind = "Alertmanager"
    ready_path = "/api/v2/status"

    def _prepare(self) -> None:
        self.config_path.write_text(self.config)

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        super().wait_ready(timeout)
        # Alertmanager serves the API before it installs its SIGTERM handler (cmd/alertmanager/
        # main.go, 0.25 to 0.33); a SIGTERM in between kills it on the spot, without saving
        # its silences (seen on a loaded machine: a restart lost a silence, and the log had no
        # "Received SIGTERM"). It answers POST /-/reload only from the loop that runs after the
        # handler is installed, so one answered reload (of the same config) means stop() will be
        # a graceful shutdown.
        response = requests.post(
            f"{self.url}/-/reload", timeout=HTTP_TIMEOUT, **self.request_options
        )
        if response.status_code != 200:
            raise ServerFailed(
                f"Alertmanager {self.version} refused POST /-/reload: {response.status_code} "
                f"{response.text[:200]}\nLog {self.log_path}:\n{_tail(self.log_path)}"
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

    # -- raw API helpers, independent of the client under test -----------------------------

    def status(self) -> dict[str, Any]:
        response = requests.get(
            f"{self.url}/api/v2/status", timeout=HTTP_TIMEOUT, **self.request_options
        )
        response.raise_for_status()
        return response.json()

    def push_alerts(self, alerts: list[dict[str, Any]]) -> None:
        push_alerts(self.url, alerts)

    def raw_silences(self) -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.url}/api/v2/silences", timeout=HTTP_TIMEOUT, **self.request_options
        )
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


# -- Prometheus ------------------------------------------------------------------------------

# Checked with promtool 2.42 and by starting 2.42, 2.53 and 3.5 with it (PrometheusProcess):
# - AlwaysFiring and TargetDown fire at the first evaluations (TargetDown for job="broken");
# - BrokenRule is valid PromQL but fails at every evaluation, so /api/v1/rules reports it
#   with health "err" and a lastError. Why: `vector(1) or label_replace(vector(1), "a", "b",
#   "", "")` yields two series, {} and {a="b"}; matching them `on()` (no labels) puts both in
#   the match group {} on the right-hand side, and a one-to-one match then fails with "found
#   duplicate series for the match group {} on the right hand-side of the operation ...;
#   many-to-many matching not allowed". It depends on no scraped data, so it errs from the very
#   first evaluation (unlike `up * on() up`, which succeeds while only one `up` series exists
#   and then keeps the alert "firing" on 2.42 while erring), and it never fires.
# - The "weekly" group (interval 1w) is, in practice, not evaluated during a test session: its
#   first evaluation is slotted at a hash-derived offset within the week, so its rule shows
#   health "unknown" and Go's zero time as lastEvaluation. Tests must check the raw API before
#   relying on that (see PrometheusProcess.raw_rules).
DEFAULT_RULES = """\
groups:
  - name: alertui-test
    rules:
      - alert: AlwaysFiring
        expr: vector(1)
        labels:
          severity: info
        annotations:
          summary: 'Always-firing test alert'
      - alert: TargetDown
        expr: up == 0
        for: 0s
        labels:
          severity: critical
        annotations:
          summary: 'Target {{ $labels.instance }} of job {{ $labels.job }} is down'
      - alert: BrokenRule
        expr: 'vector(1) * on() (vector(1) or label_replace(vector(1), "a", "b", "", ""))'
        labels:
          severity: warning
  - name: weekly
    interval: 1w
    rules:
      - alert: WeeklyCheck
        expr: vector(1)
"""

GO_ZERO_TIME = "0001-01-01T00:00:00Z"  # what Prometheus shows for "never" (lastScrape etc.)
SETTLE_TIMEOUT = 30  # seconds for a started Prometheus to scrape, discover pools and evaluate


class WaitTimeout(AssertionError):
    """wait_until() gave up; the message says what was awaited and what was last seen."""


def wait_until(fn, timeout: float, what: str, interval: float = 0.2):
    """Call `fn` until it returns a truthy value (returned) or `timeout` seconds pass.

    Exceptions raised by `fn` (failed asserts, refused connections) count as "not yet"; the last
    one, or the last falsy value, is in the WaitTimeout message.
    """
    deadline = time.monotonic() + timeout
    last: str = "no attempt"
    while True:
        try:
            result = fn()
        except Exception as e:  # noqa: BLE001 - anything is "not yet"; reported at the end
            last = f"{type(e).__name__}: {e}"
        else:
            if result:
                return result
            last = f"returned {result!r}"
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout:g}s waiting for {what} (last: {last})")
        time.sleep(interval)


def _free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports that were free a moment ago on 127.0.0.1."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _host_port(url: str) -> tuple[str, str, str]:
    """("http", "127.0.0.1:9093", "/prefix") from an Alertmanager URL."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if not parts.hostname or not parts.port:
        raise ValueError(f"Alertmanager URL needs a host and a port: {url!r}")
    return parts.scheme, f"{parts.hostname}:{parts.port}", parts.path.rstrip("/")


class PrometheusProcess(ServerProcess):
    """One real Prometheus on 127.0.0.1, with its own config, rules, TSDB and log in `tmpdir`.

    Scrape jobs (every 1s, rules evaluated every 1s):
    - "prometheus": Prometheus scraping itself, healthy;
    - "broken": one target on a closed port (`broken_target`), down with "connection refused";
    - "no-endpoints": `static_configs: []`, a configured pool with no active target (the
      "service without endpoints" case); listed by /api/v1/scrape_pools on 2.42, 2.53 and 3.5
      once discovery has synced (about 5s after start);
    - "hanging": one target (`hanging_target`) that accepts connections and never answers,
      scraped every hour with a 1h timeout, so it stays health "unknown" with lastScrape at
      Go's zero time for the whole session, whenever its first scrape happens to start
      (Prometheus records lastScrape only when a scrape finishes);
    - `extra_scrape_configs`: more YAML list items, written at column 0 ("- job_name: ...").

    Alerts go to `alertmanager_urls` (resent every second: --rules.alert.resend-delay=1s) with
    the external label `prometheus=<self.name>`, so a shared Alertmanager can tell instances
    apart. Ports are chosen once, so restart() keeps the URL and the TSDB.
    """

    def __init__(
        self,
        version: str,
        tmpdir: Path | str,
        alertmanager_urls: tuple[str, ...] | list[str] = (),
        extra_scrape_configs: str = "",
        rules: str = DEFAULT_RULES,
        extra_args: tuple[str, ...] = (),
    ):
        self.version = version
        self.binary = prometheus_binary(version)
        self.tmpdir = Path(tmpdir)
        self.config_path = self.tmpdir / "prometheus.yml"
        self.rules_path = self.tmpdir / "rules.yml"
        self.storage_path = self.tmpdir / "data"
        self.log_path = self.tmpdir / "prometheus.log"
        self.alertmanager_urls = tuple(alertmanager_urls)
        self.extra_scrape_configs = extra_scrape_configs
        self.rules = rules
        self.extra_args = tuple(extra_args)
        self.port, broken_port, self.hanging_port = _free_ports(3)
        self.broken_target = f"127.0.0.1:{broken_port}"  # nothing listens there
        self.hanging_target = f"127.0.0.1:{self.hanging_port}"
        self.name = f"{version}@{self.port}"
        self.process: subprocess.Popen | None = None
        self._hanging_socket: socket.socket | None = None

    def __repr__(self) -> str:
        return f"<PrometheusProcess {self.version} {self.url}>"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def config(self) -> str:
        alerting = ""
        if self.alertmanager_urls:
            entries = []
            for url in self.alertmanager_urls:
                scheme, target, prefix = _host_port(url)
                entry = f"    - scheme: {scheme}\n"
                if prefix:
                    entry += f"      path_prefix: '{prefix}'\n"
                entry += f"      static_configs:\n        - targets: ['{target}']\n"
                entries.append(entry)
            alerting = "alerting:\n  alertmanagers:\n" + "".join(entries)
        extra = textwrap.indent(textwrap.dedent(self.extra_scrape_configs).strip(), "  ")
        return (
            "global:\n"
            "  scrape_interval: 1s\n"
            "  scrape_timeout: 1s  # must not exceed scrape_interval\n"
            "  evaluation_interval: 1s\n"
            "  external_labels:\n"
            f"    prometheus: '{self.name}'\n"
            f"{alerting}"
            "rule_files:\n"
            f"  - '{self.rules_path}'\n"
            "scrape_configs:\n"
            "  - job_name: prometheus\n"
            "    static_configs:\n"
            f"      - targets: ['127.0.0.1:{self.port}']\n"
            "  - job_name: broken\n"
            "    static_configs:\n"
            f"      - targets: ['{self.broken_target}']\n"
            "  - job_name: no-endpoints\n"
            "    static_configs: []\n"
            "  - job_name: hanging\n"
            "    scrape_interval: 1h\n"
            "    scrape_timeout: 1h\n"
            "    static_configs:\n"
            f"      - targets: ['{self.hanging_target}']\n" + (extra + "\n" if extra else "")
        )

    def command(self) -> list[str]:
        return [
            str(self.binary),
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.storage_path}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--web.enable-lifecycle",
            "--rules.alert.resend-delay=1s",
            *self.extra_args,
        ]

    def _open_hanging_target(self) -> None:
        # A listening socket that never accepts: the kernel completes the TCP handshake (the
        # connection waits in the backlog) and the HTTP request is never answered.
        if self._hanging_socket is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self.hanging_port))
            sock.listen(16)
            self._hanging_socket = sock

    def _close_hanging_target(self) -> None:
        sock, self._hanging_socket = self._hanging_socket, None
        if sock is not None:
            sock.close()

    kind = "Prometheus"
    ready_path = "/-/ready"  # 503 until the TSDB is open

    def _prepare(self) -> None:
        self.config_path.write_text(self.config())
        self.rules_path.write_text(self.rules)
        self._open_hanging_target()

    def _after_stop(self) -> None:
        self._close_hanging_target()

    def wait_for(self, predicate, timeout: float = SETTLE_TIMEOUT, what: str = "a condition"):
        """wait_until(predicate, ...), with this Prometheus's log tail in the failure."""
        try:
            return wait_until(predicate, timeout, f"{what} on {self!r}")
        except WaitTimeout as e:
            raise WaitTimeout(f"{e}\nLog {self.log_path}:\n{_tail(self.log_path)}") from None

    def wait_settled(self, timeout: float = SETTLE_TIMEOUT) -> None:
        """Wait until the self-scrape is up, the broken target has been scraped (down), the
        "no-endpoints" pool is listed and the alerting group has been evaluated."""

        def settled() -> bool:
            targets = {t["scrapePool"]: t for t in self.raw_targets()["activeTargets"]}
            self_scrape, broken = targets.get("prometheus"), targets.get("broken")
            rules = {r["name"]: r for g in self.raw_rules()["groups"] for r in g["rules"]}
            return bool(
                self_scrape
                and self_scrape["health"] == "up"
                and broken
                and broken["health"] == "down"
                and broken["lastScrape"] != GO_ZERO_TIME
                and "no-endpoints" in self.raw_scrape_pools()
                and rules.get("AlwaysFiring", {}).get("state") == "firing"
            )

        self.wait_for(settled, timeout, "targets scraped, pools discovered, rules evaluated")

    # -- raw API helpers, independent of the client under test -----------------------------

    def api(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """`data` of GET /api/v1<path>; raises ServerFailed unless status is "success"."""
        response = requests.get(
            f"{self.url}/api/v1{path}", params=params, timeout=HTTP_TIMEOUT, **self.request_options
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            raise ServerFailed(f"GET {response.url}: {response.status_code} {response.text}")
        if body.get("status") != "success":
            raise ServerFailed(f"GET {response.url}: {body}")
        return body.get("data")

    def raw_targets(self) -> dict[str, Any]:
        return self.api("/targets")

    def raw_scrape_pools(self) -> list[str]:
        return self.api("/scrape_pools")["scrapePools"]

    def raw_rules(self) -> dict[str, Any]:
        return self.api("/rules")
