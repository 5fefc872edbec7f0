from collections import defaultdict
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_GET

from alertui import clusters
from alertui.accounts.roles import can_silence
from alertui.matchers import Matcher, format_matchers
from alertui.sync import health
from alertui.targets.models import FailingTarget, RuleFailure, ScrapePool


def _filter_text(target: FailingTarget) -> str:
    matchers = [Matcher("job", "=", target.job)]
    if target.instance:
        matchers.append(Matcher("instance", "=", target.instance))
    return format_matchers(matchers)


@require_GET
def target_list(request):
    failing_by_pool = defaultdict(list)
    for target in FailingTarget.objects.all():
        text = _filter_text(target)
        target.alerts_query = urlencode(
            [("q", text), ("state", "active"), ("state", "silenced"), ("state", "inhibited")]
        )
        target.silence_query = urlencode({"filter": text})
        failing_by_pool[(target.cluster, target.source, target.scrape_pool)].append(target)
    statuses = {s.name: s for s in health.sources().filter(kind=health.PROMETHEUS)}
    configured = clusters.configured()
    servers = []
    for cluster, url in [(c.name, url) for c in configured for url in c.prometheus_urls]:
        mine = {"cluster": cluster, "source": url}
        pools = list(ScrapePool.objects.filter(**mine))
        for pool in pools:
            pool.failing_targets = failing_by_pool.get((cluster, url, pool.name), [])
        name = urlsplit(url).netloc
        servers.append(
            {
                "url": url,
                "cluster": cluster,
                "name": f"{cluster}: {name}" if len(configured) > 1 else name,
                "status": statuses.get(health.name(health.PROMETHEUS, cluster, url)),
                "failing_pools": [p for p in pools if p.failing],
                "empty_pools": [p for p in pools if p.total == 0],
                "healthy_pools": [p for p in pools if p.total and not p.failing],
                "rules": list(RuleFailure.objects.filter(**mine)),
            }
        )
    ctx = {
        "servers": servers,
        "several": len(servers) > 1,
        "failing_total": sum(len(v) for v in failing_by_pool.values()),
        "can_silence": can_silence(request.user),
        "poll_seconds": settings.ALERTS_REFRESH_SECONDS,
    }
    template = "targets/list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, ctx)
