from collections import defaultdict
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Case, Q, Value, When
from django.views.decorators.http import require_GET

from alertui import clusters
from alertui.accounts.roles import can_silence
from alertui.matchers import Matcher, format_matchers
from alertui.nav import htmx
from alertui.sync import health
from alertui.targets import rows
from alertui.targets.models import FailingTarget, RuleFailure, ScrapePool

# Failing targets per page: the page reads (and shows) this many stored rows at most, however
# many targets fail.
PAGE_SIZE = 100
# What the page reads of a failing target; the rest is in its stored cells (targets.rows).
SHOWN_FIELDS = (
    "cluster",
    "source",
    "scrape_pool",
    "job",
    "instance",
    "last_scrape",
    "last_scrape_duration",
    "row_html",
    "row_template",
)


def _filter_text(target: FailingTarget) -> str:
    matchers = [Matcher("job", "=", target.job)]
    if target.instance:
        matchers.append(Matcher("instance", "=", target.instance))
    return format_matchers(matchers)


def _failing_page(request, servers: list[tuple[str, str]], job: str):
    """The page asked for of the configured servers' failing targets (of the job `job`, when
    given), in the order the page shows them (server by server as configured, then pool, then
    endpoint)."""
    if not servers:
        return Paginator(FailingTarget.objects.none(), PAGE_SIZE).get_page(1)
    mine = Q()
    for cluster, url in servers:
        mine |= Q(cluster=cluster, source=url)
    position = Case(
        *(When(cluster=c, source=u, then=Value(i)) for i, (c, u) in enumerate(servers)),
        default=Value(len(servers)),
    )
    found = FailingTarget.objects.filter(mine).only(*SHOWN_FIELDS)
    if job:
        found = found.filter(scrape_pool=job)
    found = found.order_by(position, "scrape_pool", "scrape_url", "pk")
    return Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))


def _with_cells(targets: list[FailingTarget]) -> None:
    """Give each target its cells: stored by the sync, or rendered now for a row stored by
    another version of the row template (read again whole, in one query)."""
    version = rows.template_version()
    stale = [t.pk for t in targets if not rows.is_current(t, version)]
    whole = FailingTarget.objects.in_bulk(stale) if stale else {}
    for target in targets:
        target.cells = rows.cells(whole.get(target.pk, target), version)
        text = _filter_text(target)
        target.alerts_query = urlencode(
            [("q", text), ("state", "active"), ("state", "silenced"), ("state", "inhibited")]
        )
        target.silence_query = urlencode({"filter": text})


@require_GET
def target_list(request):
    configured = clusters.configured()
    # Filters: one job (scrape pool) and, with several clusters, one cluster; a value naming
    # none shows none.
    job = request.GET.get("job", "")[:255]
    cluster_name = request.GET.get("cluster", "")[:63]
    pairs = [
        (c.name, url)
        for c in configured
        for url in c.prometheus_urls
        if not cluster_name or c.name == cluster_name
    ]
    page = _failing_page(request, pairs, job)
    targets = list(page.object_list)
    _with_cells(targets)
    on_page = defaultdict(list)
    for target in targets:
        on_page[(target.cluster, target.source, target.scrape_pool)].append(target)
    statuses = {s.name: s for s in health.sources().filter(kind=health.PROMETHEUS)}
    servers = []
    for cluster, url in pairs:
        mine = {"cluster": cluster, "source": url}
        pools = list(ScrapePool.objects.filter(**mine))
        for pool in pools:
            pool.failing_targets = on_page.get((cluster, url, pool.name), [])
        name = urlsplit(url).netloc
        servers.append(
            {
                "url": url,
                "cluster": cluster,
                "name": f"{cluster}: {name}" if len(configured) > 1 else name,
                "status": statuses.get(health.name(health.PROMETHEUS, cluster, url)),
                # The pools with failing targets on this page.
                "failing_pools": [p for p in pools if p.failing_targets],
                "empty_pools": [p for p in pools if p.total == 0],
                "healthy_pools": [p for p in pools if p.total and not p.failing],
                "rules": list(RuleFailure.objects.filter(**mine)),
            }
        )
    failing_jobs = ScrapePool.objects.filter(failing__gt=0).values_list("name", flat=True)
    ctx = {
        "job": job,
        "cluster": cluster_name,
        "jobs": sorted(set(failing_jobs) | ({job} if job else set())),
        "pager_query": urlencode({k: v for k, v in (("job", job), ("cluster", cluster_name)) if v}),
        "servers": servers,
        "several": len(servers) > 1,
        "page": page,
        "failing_total": page.paginator.count,
        "can_silence": can_silence(request.user),
        "poll_seconds": settings.ALERTS_REFRESH_SECONDS,
    }
    return htmx.list_page(request, "targets/list.html", ctx)
