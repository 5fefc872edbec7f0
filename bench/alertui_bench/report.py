"""The results as Markdown (and JSON beside it): the run's header, the targets, then one
section per alert count (report_count.py). `--render FILE.json` rewrites the Markdown alone."""

from __future__ import annotations

import json
from pathlib import Path

from .report_count import count_section, fmt


def render_markdown(report: dict) -> str:
    m = report["meta"]
    out = [f"# alertui benchmark, {m['date']}", ""]
    out += [
        f"- Command: `{m['command']}`",
        f"- Date (UTC): {m['date']}; duration {m['duration_s']:.0f} s",
        f"- Machine: {m['machine']['nproc']} CPUs ({m['machine']['cpu']}), "
        f"{m['machine']['mem_total_mb']:.0f} MB RAM, kernel {m['machine']['kernel']}",
        f"- Other work on the machine: CPUs {m['busy_start']:.0f}% busy in the 2 s before the "
        f"run started (nothing of the benchmark running), {m.get('busy_end', -1):.0f}% after it "
        f"ended; load average at start / end: {m['loadavg_start']} / {m['loadavg_end']}",
        f"- Code: git {m['git']['commit']}{' + uncommitted changes' if m['git']['dirty'] else ''}"
        + (f" ({', '.join(m['git']['dirty'])})" if m["git"]["dirty"] else ""),
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        f"- Database: {m['db']}; repetitions: {m['reps']} after {m['warmup']} warm-ups; "
        f"load: {m['load']}",
    ]
    if m.get("note"):
        out += [f"- Note: {m['note']}"]
    out += ["", "## Targets", ""]
    out += [
        "| alerts | target | measured | ratio | limit | result |",
        "|---:|---|---|---:|---|---|",
    ]
    for res in report["runs"]:
        for row in res["checks"]:
            k = res.get("clusters", 1)
            alerts = f"{k} x {res['alerts']:,}" if k > 1 else f"{res['alerts']:,}"
            out.append(
                f"| {alerts} | {row['target']} | {row['measured']} | "
                f"{fmt(row['ratio'], 2)} | {row['limit']} | "
                f"{'PASS' if row['pass'] else '**MISS**'} |"
            )
    out += [
        "",
        "Ratio: page / Alertmanager and sync / raw for the relative targets; measured / "
        "limit for pages, the first request and memory; req/s / 150 for the load (>= 1 "
        "passes).",
        "",
    ]
    misses = [(res, row) for res in report["runs"] for row in res["checks"] if not row["pass"]]
    if misses:
        out += ["", "Why each miss (numbers from the same run):", ""]
        for res, row in misses:
            out.append(f"- {res['alerts']:,} alerts, {row['target']}: {row['why']}")
    for res in report["runs"]:
        out += count_section(res)
    return "\n".join(out) + "\n"


def targets_summary(report: dict) -> str:
    """The targets as plain lines, for the terminal at the end of a run."""
    lines = []
    for res in report["runs"]:
        for row in res["checks"]:
            lines.append(
                f"{res['alerts']:>6} {'PASS' if row['pass'] else 'MISS'}  "
                f"{row['target']}: {row['measured']}"
            )
    return "\n".join(lines)


def write_report(out: Path, report: dict) -> None:
    """NAME.json (everything measured) and NAME.md (rendered from it)."""
    out.with_suffix(".json").write_text(json.dumps(report, indent=1, default=str))
    out.write_text(render_markdown(report))


def render_file(json_path: Path) -> None:
    """Rewrite the .md beside a results .json."""
    json_path.with_suffix(".md").write_text(render_markdown(json.loads(json_path.read_text())))
