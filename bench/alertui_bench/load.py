"""The load test on /alerts/: wrk (or a Python thread-pool fallback) with the session cookie,
the workers' CPU per request, and optionally py-spy samples of the workers."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from .config import VENV_BIN, BenchError, log
from .measure import stats_ms
from .processes import Proc, run_checked
from .procfs import child_pids, loadavg, proc_cpu_seconds

_WRK_TIME = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}
_WRK_SIZE = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def measure_load(
    base: str, session: requests.Session, master: int, page_bytes: int, args, tmpdir: Path
) -> dict:
    """Throughput of /alerts/ under concurrent load: "load_loadavg_before", "load" and, with
    --py-spy, "py_spy"."""
    out: dict = {}
    cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
    tool = args.load_tool
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "python"
    log(f"  load: {tool}, {args.load_duration}s, concurrency {args.load_concurrency}")
    out["load_loadavg_before"] = loadavg()
    workers = child_pids(master)
    spies = start_py_spy(workers, args.load_duration, tmpdir) if args.py_spy else []
    cpu0 = proc_cpu_seconds(workers)
    each0 = [proc_cpu_seconds([pid]) for pid in workers]
    if tool == "wrk":
        load = run_wrk(f"{base}/alerts/", cookie, args.load_duration, args.load_concurrency, tmpdir)
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
    # How the load spread over the workers: keep-alive connections stay with the worker that
    # accepted them, and one worker may have accepted all of them.
    load["worker_cpu_s_each"] = [
        round(proc_cpu_seconds([pid]) - before, 2)
        for pid, before in zip(workers, each0, strict=True)
    ]
    load["cpu_ms_per_request"] = 1000 * load["worker_cpu_s"] / max(1, load["requests"])
    # What 2 workers could serve if they had every core to themselves (CPU-bound estimate).
    load["cpu_bound_rps"] = (os.cpu_count() or 1) * 1000 / max(0.001, load["cpu_ms_per_request"])
    load["bytes_per_request"] = load["bytes"] / max(1, load["requests"])
    load["page_bytes"] = page_bytes
    # A 302 to the login page would be tiny: check every answer was the full page.
    load["full_pages"] = abs(load["bytes_per_request"] - page_bytes) < 0.1 * page_bytes
    out["load"] = load
    return out


def _wrk_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise BenchError(f"cannot read wrk time {text!r}")
    return float(match.group(1)) * _WRK_TIME[match.group(2)]


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
