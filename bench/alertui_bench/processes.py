"""Starting and stopping what the benchmark runs: every process in its own session, stopped in
a `finally`, at exit and on SIGTERM/SIGINT/SIGHUP; every wait with a deadline."""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from .config import ROOT, BenchError, log


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

    @staticmethod
    def _call(what, fn) -> None:
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - cleanup must go on
            log(f"cleanup '{what}' failed: {type(e).__name__}: {e}")


CLEANUP = Cleanup()


def _on_signal(signum, _frame):
    raise SystemExit(f"stopped by signal {signum}")


def cleanup_at_exit() -> None:
    """Undo everything at exit, and turn SIGTERM/SIGINT/SIGHUP into an exit that does it."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    atexit.register(CLEANUP.unwind)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_until(fn, timeout: float, what: str, interval: float = 0.25):
    """Call `fn` until it returns a truthy value or `timeout` seconds pass. An exception from
    `fn` means "not yet", except BenchError: `fn` raises that when waiting on is pointless (the
    process exited, a task failed), so it ends the wait at once. That is why this is not
    tests.servers.wait_until."""
    deadline = time.monotonic() + timeout
    last = "no attempt"
    while True:
        try:
            value = fn()
        except BenchError:
            raise
        except Exception as e:  # noqa: BLE001 - "not yet"
            last = f"{type(e).__name__}: {e}"
        else:
            if value:
                return value
            last = f"returned {value!r}"
        if time.monotonic() >= deadline:
            raise BenchError(f"timed out after {timeout:g}s waiting for {what} (last: {last})")
        time.sleep(interval)


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

    def wait_ready(self, check, timeout: float, what: str, interval: float = 0.25):
        """wait_until(check), with the log's tail if the process exits meanwhile."""

        def ready():
            if not self.running():
                raise BenchError(f"{self.name} exited:\n{tail(self.log_path)}")
            return check()

        return wait_until(ready, timeout, what, interval)

    def wait(self, timeout: float) -> int:
        """Wait for the exit; kill the group and raise BenchError after `timeout` seconds."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise BenchError(
                f"{self.name} did not finish within {timeout:g}s; log {self.log_path}:\n"
                f"{tail(self.log_path)}"
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
        raise BenchError(f"{name} exited {code}; log {log_path}:\n{tail(log_path)}")
    return log_path.read_text(errors="replace")
