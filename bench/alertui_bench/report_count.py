"""One alert count's section of the Markdown report: data set, sync, pages, memory, load,
audit query and profiles, rendered from the results JSON alone."""

from __future__ import annotations

from .config import PAGES


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def stat_row(label: str, s: dict, extra: str = "") -> str:
    return (
        f"| {label} | {fmt(s['p50'])} | {fmt(s['p90'])} | {fmt(s['p99'])} | "
        f"{fmt(s['max'])} | {s['n']} | {extra} |"
    )


def count_section(res: dict) -> list[str]:
    sync, web, prof = res["sync"], res["web"], res["profile"]
    return (
        _intro(res)
        + _sync_table(sync)
        + _pages_table(web, prof)
        + _memory_table(res)
        + _load_section(web)
        + _audit_section(prof["audit_query"])
        + _profiles(sync, prof)
    )


def _intro(res: dict) -> list[str]:
    """The heading, the code measured and the data set."""
    n = res["alerts"]
    k = res.get("clusters", 1)
    out = ["", f"## {k} clusters x {n:,} alerts" if k > 1 else f"## {n:,} alerts", ""]
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
    clusters = res.get("clusters", 1)
    each = f"{clusters} clusters (c1 to c{clusters}), each " if clusters > 1 else ""
    out += [
        f"{each}Alertmanager {res['alertmanager_version']}: {n:,} alerts "
        f"(states {res['alert_states']}, {res['alerts_silenced']} silenced), "
        f"{res['silences']['created']} silences ({res['silences']['expired']} expired). "
        f"Prometheus: {res['prometheus']['down']} targets down "
        f"({res['prometheus']['connection_refused']} connection refused). "
        + (
            f"Maintenance window history: {res['seed']['window_changes']:,} rows; silence "
            f"templates: {res['seed']['templates']}. "
            if "templates" in res["seed"]
            else ""
        )
        + f"Audit: {res['seed']['rows']:,} rows ({res['seed']['alice_expired']} match "
        f"person=alice&action=expired). Setup seconds: "
        + ", ".join(f"{k} {v:.1f}" for k, v in res["setup_seconds"].items())
        + f". Load average: {res['loadavg']}.",
        "",
    ]
    return out


def _sync_table(sync: dict) -> list[str]:
    """Alertmanager reference and sync, in-process."""
    out = [
        "### Alertmanager reference and sync (in-process, after django.setup())",
        "",
        "| measurement (ms) | p50 | p90 | p99 | max | n | notes |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    s = sync["steady"]
    out.append(
        stat_row(
            "raw GET /api/v2/alerts, fetch only",
            s["raw_fetch"],
            f"{sync['raw_alerts_bytes'] / 1024:.0f} KiB",
        )
    )
    out.append(stat_row("raw GET /api/v2/alerts, fetch + json parse", s["raw_fetch_parse"]))
    if "raw_fetch_fast_parse" in s:  # results from before it was measured lack it
        out.append(
            stat_row(
                "raw GET /api/v2/alerts, fetch + parse as the sync reads (orjson, no GC pass)",
                s["raw_fetch_fast_parse"],
            )
        )
    out.append(
        stat_row(
            "raw fetch + parse of all 5 sync endpoints",
            s["raw_all"],
            f"{sync['raw_all_bytes'] / 1024:.0f} KiB: AM silences, alerts; "
            "Prometheus targets, scrape_pools, rules",
        )
    )
    for phase in ("silences", "alerts", "targets", "total"):
        q = sync["steady_queries"].get(phase)
        out.append(
            stat_row(
                f"steady sync_{phase}" if phase != "total" else "steady full sync cycle",
                s[phase],
                f"{q} queries" if q is not None else "",
            )
        )
    out.append(
        stat_row(
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
        stat_row(
            "sync_alerts right after Prometheus-style re-send of every alert",
            r["sync_alerts"],
            f"changed per run: {r['changed']}",
        )
    )
    out.append(
        stat_row(
            "full snapshot load (forced) in-process",
            r["snapshot_reload"],
            "what a web worker pays on its first request (or after any reset)",
        )
    )
    ch = sync.get("churn")
    if ch:
        out.append(
            stat_row(
                f"sync_alerts after {ch['alerts']} alerts (1 %) resolved or fired again",
                ch["sync_alerts"],
                "changes: " + ", ".join(ch["changes"]),
            )
        )
        out.append(
            stat_row(
                "then: snapshot update in a warm web process",
                ch["snapshot_update"],
                "current_alerts() on the next request after such a sync",
            )
        )
    out.append("")
    out.append(f"Steady runs recorded/changed nothing: {sync['steady_changes']}.")
    return out


def _pages_table(web: dict, prof: dict) -> list[str]:
    """Each page over gunicorn, beside the raw Alertmanager GET and in-process."""
    out = ["", "### Pages (gunicorn -w 2 --threads 2, logged in, keep-alive)", ""]
    out += [
        "| page | p50 | p90 | p99 | max | n | size | raw AM GET p50 alongside | "
        "page / AM | worker CPU per request | in-process view p50 | queries | shown |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, _path in PAGES:
        if name not in web["pages"]:
            continue  # results from before the page was measured
        p = web["pages"][name]
        v = prof["views"][name]
        out.append(
            f"| `{p['path']}` | {fmt(p['p50'])} | {fmt(p['p90'])} | {fmt(p['p99'])} | "
            f"{fmt(p['max'])} | {p['n']} | {p['bytes'] / 1024:.0f} KiB | "
            f"{fmt(p['raw_am']['p50'])} | {p['p50'] / p['raw_am']['p50']:.2f} | "
            f"{fmt(p.get('cpu_ms'))} | {fmt(v['p50'])} | {v['queries']} | "
            f"{p.get('shown', '')} |"
        )
    out += [
        "",
        f"First /alerts/ request after gunicorn started (snapshot load in that worker): "
        f"{web['alerts_first_request_ms']:.0f} ms. Snapshot reload in-process: p50 "
        f"{prof['snapshot_reload']['p50']:.0f} ms (reading the rows alone "
        f"{prof['snapshot_rows_only']['p50']:.0f} ms).",
        "",
    ]
    return out


def _memory_table(res: dict) -> list[str]:
    """Peak RSS of the gunicorn workers, the Celery worker and the sync process."""
    sync, web = res["sync"], res["web"]
    out = [
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
                f"| gunicorn worker {pid} ({label}) | {fmt(st.get('VmHWM'))} | "
                f"RSS now {fmt(st.get('VmRSS'))} |"
            )
        out.append(
            f"| gunicorn master + workers, sum ({label}) | {mem['sum_hwm']:.0f} | "
            f"master {fmt(mem['master'].get('VmHWM'))} |"
        )
    idle = web["memory_idle"]
    out.append(f"| gunicorn worker, idle after start (max) | {idle['max_worker_hwm']:.0f} | |")
    c = res["celery"]
    out.append(
        f"| Celery worker (--pool solo), 3 rounds of the 3 sync tasks | "
        f"{fmt(c['after_sync'].get('VmHWM'))} | idle {fmt(c['idle'].get('VmHWM'))}; task "
        f"ms: {', '.join(f'{t} {ms:.0f}' for t, ms in c['task_ms'])} |"
    )
    rss = sync["rss_mb"]
    out.append(
        f"| in-process sync (getrusage ru_maxrss) | {rss['after_steady']:.0f} | after "
        f"django.setup {rss['after_setup']:.0f}, after first sync "
        f"{rss['after_first_sync']:.0f}, after resend {rss['after_resend']:.0f} |"
    )
    return out


def _load_section(web: dict) -> list[str]:
    """/alerts/ under load, and py-spy samples if taken."""
    ld = web["load"]
    out = [
        "",
        "### /alerts/ under load",
        "",
        f"{ld['tool']}: {ld['requests']} requests in {ld['seconds']:.1f} s = "
        f"**{ld['rps']:.1f} req/s**; latency p50 {fmt(ld.get('p50'))} ms, p90 "
        f"{fmt(ld.get('p90'))} ms, p99 **{fmt(ld.get('p99'))} ms**; HTTP errors "
        f"{ld['errors_http']}, socket errors {ld['errors_socket']}; "
        f"{ld['bytes_per_request'] / 1024:.0f} KiB per answer "
        f"(page {ld['page_bytes'] / 1024:.0f}"
        f" KiB: {'all full pages' if ld['full_pages'] else 'NOT all full pages'}). Load average"
        f" before / after: {web['load_loadavg_before']} / {ld['loadavg_after']}.",
        "",
        f"The 2 workers used {ld['worker_cpu_s']:.1f} CPU-seconds"
        + (
            f" ({' + '.join(map(str, ld['worker_cpu_s_each']))})"
            if "worker_cpu_s_each" in ld
            else ""
        )
        + ": "
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
    return out


def _audit_section(aq: dict) -> list[str]:
    """The audit filter's query, and its PostgreSQL plans."""
    out = [
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
    return out


def _profiles(sync: dict, prof: dict) -> list[str]:
    """The steady sync profile, the SQL of each page, and the page profiles."""
    out = ["", "### Profiles", ""]
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
        if name not in prof["views"]:
            continue
        qlog = prof["views"][name].get("query_log", [])
        out.append(f"{name}: {sum(ms for ms, _ in qlog):.1f} ms in {len(qlog)} queries")
        out += [f"  {ms:7.2f}  {sql}" for ms, sql in qlog]
    out += ["```", "", "</details>", ""]
    for name, texts in prof["profiles"].items():
        out += [
            f"<details><summary>{name} page, 10 requests in-process (cProfile, CPU time)</summary>",
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
    return out
