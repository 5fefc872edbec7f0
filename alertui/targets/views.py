from collections import defaultdict
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_GET

from alertui.accounts.roles import can_silence
from alertui.alerts.models import SourceStatus
from alertui.alerts.sources import prometheus
from alertui.matchers import Matcher, format_matchers
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
        failing_by_pool[(target.source, target.scrape_pool)].append(target)
    statuses = {s.name: s for s in SourceStatus.objects.filter(name__startswith="prometheus ")}
    servers = []
    for url in settings.PROMETHEUS_URLS:
        pools = list(ScrapePool.objects.filter(source=url))
        for pool in pools:
            pool.failing_targets = failing_by_pool.get((url, pool.name), [])
        servers.append(
            {
                "url": url,
                "name": urlsplit(url).netloc,
                "status": statuses.get(prometheus(url)),
                "failing_pools": [p for p in pools if p.failing],
                "empty_pools": [p for p in pools if p.total == 0],
                "healthy_pools": [p for p in pools if p.total and not p.failing],
                "rules": list(RuleFailure.objects.filter(source=url)),
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
