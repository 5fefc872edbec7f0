"""The pages over HTTP: gunicorn (2 workers), logged in, each page timed beside a raw
Alertmanager GET; the workers' CPU and memory; then the load test (load.py)."""

from __future__ import annotations

import re
import shlex
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from tests.servers import free_port

from .config import HTTP_TIMEOUT, LOGIN_USER, PAGES, VENV_BIN, BenchError, log
from .load import measure_load
from .measure import stats_ms
from .processes import Proc, wait_until
from .procfs import child_pids, loadavg, proc_cpu_seconds, proc_status


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
    status = {pid: proc_status(pid) for pid in [master, *workers]}
    return {
        "master": status[master],
        "workers": {str(pid): status[pid] for pid in workers},
        "max_worker_hwm": max((status[p].get("VmHWM", 0) for p in workers), default=0),
        "sum_hwm": sum(st.get("VmHWM", 0) for st in status.values()),
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
        gunicorn.wait_ready(
            lambda: requests.get(f"{base}/healthz", timeout=2).status_code == 200,
            30,
            "gunicorn /healthz",
        )
        wait_until(lambda: len(child_pids(gunicorn.pid)) >= 2, 30, "2 gunicorn workers")
        out["memory_idle"] = web_memory(gunicorn.pid)
        session = login(base, LOGIN_USER, password)
        cold, _ = timed_get(session, f"{base}/alerts/")
        out["alerts_first_request_ms"] = cold * 1000
        raw = requests.Session()
        pages = {}
        for name, path in PAGES:
            pages[name] = _page(name, base, path, session, raw, am_url, gunicorn.pid, args)
            log(
                f"  page {name}: p50 {pages[name]['p50']:.1f} ms "
                f"(raw AM p50 {pages[name]['raw_am']['p50']:.1f} ms)"
            )
        out["pages"] = pages
        out["memory_after_pages"] = web_memory(gunicorn.pid)
        out.update(
            measure_load(base, session, gunicorn.pid, pages["alerts"]["bytes"], args, tmpdir)
        )
        timed_get(session, f"{base}/alerts/")  # the session still works after the load
        out["memory_after_load"] = web_memory(gunicorn.pid)
    finally:
        gunicorn.stop()
    return out


def _page(name, base, path, session, raw, am_url: str, master: int, args) -> dict:
    """One page: warmed in both workers, then `args.reps` times, each right after a raw
    GET /api/v2/alerts from the same Alertmanager (`raw`); and the workers' CPU per request."""
    url = base + path
    loadavg_before = loadavg()

    def prewarm():
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
    workers = child_pids(master)
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
    if name.startswith("audit"):
        rows = r.text.count('<tr class="succeeded">') + r.text.count('<tr class="failed">')
        entry["shown"] = f"{rows} rows on the page"
    return entry
