"""What /proc says about the machine and about processes: load, busy CPUs, memory, CPU time."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


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


def child_pids(pid: int) -> list[int]:
    pids = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            pids += [int(p) for p in children.read_text().split()]
        except OSError:
            pass
    return sorted(set(pids))
