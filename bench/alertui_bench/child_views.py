"""Child task "profile": the pages in-process (Django's test client, no HTTP server), their SQL,
CPU profiles, the snapshot load, and the audit filter's query plans. Imported only after
django.setup()."""

from __future__ import annotations

import cProfile
import time
from urllib.parse import urlsplit

from django.contrib.auth.models import User
from django.db import connection
from django.http import QueryDict
from django.test import Client

from alertui.alerts.models import Alert
from alertui.audit.filters import AuditFilter
from alertui.audit.models import AuditEvent

from .config import PAGES, BenchError
from .measure import QueryCounter, full_snapshot_load, percentile, profile_text, stats_ms


def measure_views(spec: dict) -> dict:
    """In-process view timings, cold snapshot loads, cProfile of the main pages, and the audit
    query plan."""
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(
        User.objects.get(username=spec["user"]), backend="django.contrib.auth.backends.ModelBackend"
    )

    def get(path):
        r = client.get(path)
        if r.status_code != 200:
            raise BenchError(f"in-process GET {path}: {r.status_code}")
        return r

    out: dict = {}
    # The snapshot a web process reloads after every sync that changed an alert.
    cold, fetch_rows = [], []
    for _ in range(5):
        cold.append(full_snapshot_load())
        t0 = time.perf_counter()
        list(Alert.objects.all().iterator(chunk_size=2000))
        fetch_rows.append(time.perf_counter() - t0)
    out["snapshot_reload"] = stats_ms(cold)
    out["snapshot_rows_only"] = stats_ms(fetch_rows)

    views = {}
    for name, path in PAGES:
        for _ in range(3):
            get(path)
        samples = []
        logs = []
        for _ in range(5):
            counter = QueryCounter()
            with connection.execute_wrapper(counter):
                get(path)
            logs.append(counter.log)
        # Per query of one request: the median time over 5 requests, and its SQL.
        per_query = [
            (
                1000 * percentile([log[i][0] for log in logs if len(log) > i], 50),
                logs[0][i][1][:220],
            )
            for i in range(len(logs[0]))
        ]
        for _ in range(spec["reps"]):
            t0 = time.perf_counter()
            get(path)
            samples.append(time.perf_counter() - t0)
        views[name] = {**stats_ms(samples), "queries": counter.count, "query_log": per_query}
    out["views"] = views

    profiles = {}
    for name, path in PAGES:
        if name not in spec["profile_pages"]:
            continue
        # CPU time, not wall time: on a shared machine, wall time would charge whatever function
        # happened to run when the scheduler took the CPU away.
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        for _ in range(10):
            get(path)
        profile.disable()
        profiles[name] = {
            "cumulative": profile_text(profile, "cumulative", 40),
            "tottime": profile_text(profile, "tottime", 25),
        }
    out["profiles"] = profiles
    out["audit_query"] = _audit_query()
    return out


def _audit_query() -> dict:
    """The audit page's filter: the count the paginator runs, the page itself, and
    PostgreSQL's plans."""
    query = QueryDict(urlsplit(dict(PAGES)["audit_filter"]).query)
    flt = AuditFilter(
        query, queryset=AuditEvent.objects.select_related("actor").order_by("-at", "-id")
    )
    qs = flt.qs
    timings = {"count": [], "first_page": []}
    for _ in range(10):
        t0 = time.perf_counter()
        total = qs.count()
        timings["count"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        list(qs[:50])
        timings["first_page"].append(time.perf_counter() - t0)
    out = {k: stats_ms(v) for k, v in timings.items()}
    out["matching_rows"] = total
    out["total_rows"] = AuditEvent.objects.count()
    if connection.vendor == "postgresql":
        sql, params = qs.values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) SELECT COUNT(*) FROM ({sql}) sub", params)
            out["count_plan"] = "\n".join(row[0] for row in cursor.fetchall())
        out["page_plan"] = qs[:50].explain(analyze=True)
    return out
