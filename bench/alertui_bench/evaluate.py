"""The issue's targets, checked in every run: PASS or MISS, and a first explanation of each
miss from the same run's numbers."""

from __future__ import annotations

# Issue #13's table (the first from the issue before it).
TARGET_PAGE_VS_AM = 0.5  # alerts page p50 <= 0.5 x raw Alertmanager GET p50
TARGET_PAGE_MS = 30.0  # /targets/ and /silences/ p50
TARGET_AUDIT_MS = 50.0  # audit page filtered by person and action over 100k rows, p50
TARGET_SYNC_VS_RAW = 1.2  # steady sync p50 <= 1.2 x raw fetch-and-parse p50
TARGET_FIRST_MS = 100.0  # first /alerts/ request after a web worker starts
TARGET_RPS = 150.0  # /alerts/ under concurrent load (2 workers)
TARGET_LOAD_P99_MS = 300.0
TARGET_WEB_MB = 200.0  # peak RSS of one web worker (the issue: at 3 clusters x 10,000 alerts)


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
    load_ok = load["rps"] >= TARGET_RPS and load["p99"] <= TARGET_LOAD_P99_MS and load["full_pages"]
    load_ok = load_ok and not load["errors_http"] and not load["errors_socket"]
    first = res["web"]["alerts_first_request_ms"]
    rows = [
        _check(
            "page_vs_am",
            "alerts page p50 <= 0.5 x raw Alertmanager GET p50",
            f"{alerts_p50:.1f} ms vs {am_p50:.1f} ms",
            alerts_p50 / am_p50,
            f"<= {TARGET_PAGE_VS_AM}",
            alerts_p50 <= TARGET_PAGE_VS_AM * am_p50,
        ),
        *(
            _check(
                "page",
                f"{path} p50 <= {TARGET_PAGE_MS:.0f} ms",
                f"{pages[name]['p50']:.1f} ms",
                pages[name]["p50"] / TARGET_PAGE_MS,
                f"<= {TARGET_PAGE_MS:.0f} ms",
                pages[name]["p50"] <= TARGET_PAGE_MS,
            )
            for name, path in (("targets", "/targets/"), ("silences", "/silences/"))
        ),
        _check(
            "audit",
            f"audit page, person and action filter over {res['seed']['rows']:,} rows, p50 "
            f"<= {TARGET_AUDIT_MS:.0f} ms",
            f"{audit:.1f} ms",
            audit / TARGET_AUDIT_MS,
            f"<= {TARGET_AUDIT_MS:.0f} ms",
            audit <= TARGET_AUDIT_MS,
        ),
        _check(
            "sync_vs_raw",
            f"steady sync cycle p50 <= {TARGET_SYNC_VS_RAW} x raw fetch-and-parse p50 (same 5 "
            "endpoints)",
            f"{total:.1f} ms vs {raw_all:.1f} ms",
            total / raw_all,
            f"<= {TARGET_SYNC_VS_RAW}",
            total <= TARGET_SYNC_VS_RAW * raw_all,
        ),
        _check(
            "sync_alerts_vs_raw",
            f"steady sync_alerts p50 <= {TARGET_SYNC_VS_RAW} x raw GET /api/v2/alerts + parse p50",
            f"{alerts_sync:.1f} ms vs {raw_alerts:.1f} ms",
            alerts_sync / raw_alerts,
            f"<= {TARGET_SYNC_VS_RAW}",
            alerts_sync <= TARGET_SYNC_VS_RAW * raw_alerts,
        ),
        _check(
            "first",
            f"first /alerts/ request after a web worker starts <= {TARGET_FIRST_MS:.0f} ms",
            f"{first:.0f} ms",
            first / TARGET_FIRST_MS,
            f"<= {TARGET_FIRST_MS:.0f} ms",
            first <= TARGET_FIRST_MS,
        ),
        _check(
            "load",
            f"/alerts/ under load (2 workers): >= {TARGET_RPS:.0f} req/s with p99 <= "
            f"{TARGET_LOAD_P99_MS:.0f} ms",
            f"{load['rps']:.1f} req/s, p99 {load['p99']:.0f} ms",
            load["rps"] / TARGET_RPS,
            f">= {TARGET_RPS:.0f} req/s, p99 <= {TARGET_LOAD_P99_MS:.0f} ms",
            load_ok,
        ),
        _check(
            "web_memory",
            f"web worker peak RSS <= {TARGET_WEB_MB:.0f} MB",
            f"{web:.0f} MB",
            web / TARGET_WEB_MB,
            f"<= {TARGET_WEB_MB:.0f} MB",
            web <= TARGET_WEB_MB,
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
    if key == "page":
        return "see the page profiles below."
    if key == "first":
        return (
            "the worker loads the snapshot as it starts (alertui/wsgi.py); a first request "
            "that still pays for it came before the load ended. See the snapshot reload times."
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
