"""The issue's targets, checked in every run: PASS or MISS, and a first explanation of each
miss from the same run's numbers."""

from __future__ import annotations

TARGET_PAGE_VS_AM = 0.5  # alerts page p50 <= 0.5 x raw Alertmanager GET p50
TARGET_SYNC_VS_RAW = 1.5  # steady sync p50 <= 1.5 x raw fetch-and-parse p50
TARGET_AUDIT_MS = 100.0  # audit page with a filter over 100k rows, p50
TARGET_WEB_MB = 300.0  # max RSS of one web process
TARGET_RPS = 50.0  # /alerts/ under concurrent load
TARGET_LOAD_P99_MS = 500.0


def _check(key: str, target: str, measured: str, ratio: float, limit: str, ok: bool) -> dict:
    return {
        "target": target,
        "measured": measured,
        "ratio": ratio,
        "limit": limit,
        "pass": ok,
        "key": key,
    }


def evaluate(res: dict) -> list[dict]:
    """The issue's targets as PASS/MISS rows, each measured within this run, each with a first
    explanation if it missed."""
    pages = res["web"]["pages"]
    sync = res["sync"]["steady"]
    alerts_p50 = pages["alerts"]["p50"]
    am_p50 = pages["alerts"]["raw_am"]["p50"]
    total, raw_all = sync["total"]["p50"], sync["raw_all"]["p50"]
    alerts_sync, raw_alerts = sync["alerts"]["p50"], sync["raw_fetch_parse"]["p50"]
    audit = pages["audit_filter"]["p50"]
    web = max(
        res["web"]["memory_after_load"]["max_worker_hwm"],
        res["web"]["memory_after_pages"]["max_worker_hwm"],
    )
    load = res["web"]["load"]
    load_ok = load["rps"] >= TARGET_RPS and load["p99"] < TARGET_LOAD_P99_MS and load["full_pages"]
    load_ok = load_ok and not load["errors_http"] and not load["errors_socket"]
    rows = [
        _check(
            "page_vs_am",
            "alerts page p50 <= 0.5 x raw Alertmanager GET p50",
            f"{alerts_p50:.1f} ms vs {am_p50:.1f} ms",
            alerts_p50 / am_p50,
            f"<= {TARGET_PAGE_VS_AM}",
            alerts_p50 <= TARGET_PAGE_VS_AM * am_p50,
        ),
        _check(
            "sync_vs_raw",
            "steady sync cycle p50 <= 1.5 x raw fetch-and-parse p50 (same 5 endpoints)",
            f"{total:.1f} ms vs {raw_all:.1f} ms",
            total / raw_all,
            f"<= {TARGET_SYNC_VS_RAW}",
            total <= TARGET_SYNC_VS_RAW * raw_all,
        ),
        _check(
            "sync_alerts_vs_raw",
            "(detail) steady sync_alerts p50 <= 1.5 x raw GET /api/v2/alerts + parse p50",
            f"{alerts_sync:.1f} ms vs {raw_alerts:.1f} ms",
            alerts_sync / raw_alerts,
            f"<= {TARGET_SYNC_VS_RAW}",
            alerts_sync <= TARGET_SYNC_VS_RAW * raw_alerts,
        ),
        _check(
            "audit",
            f"audit page, filter over {res['seed']['rows']:,} rows, p50 < 100 ms",
            f"{audit:.1f} ms",
            audit / TARGET_AUDIT_MS,
            "< 100 ms",
            audit < TARGET_AUDIT_MS,
        ),
        _check(
            "web_memory",
            "web process (gunicorn worker) peak RSS < 300 MB",
            f"{web:.0f} MB",
            web / TARGET_WEB_MB,
            "< 300 MB",
            web < TARGET_WEB_MB,
        ),
        _check(
            "load",
            "/alerts/ under load: >= 50 req/s with p99 < 500 ms",
            f"{load['rps']:.1f} req/s, p99 {load['p99']:.0f} ms",
            load["rps"] / TARGET_RPS,
            ">= 50 req/s, p99 < 500 ms",
            load_ok,
        ),
    ]
    for row in rows:
        row["why"] = "" if row["pass"] else _why(row["key"], res)
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
