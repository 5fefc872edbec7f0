"""Rendered HTML of single alerts, kept between requests.

The alerts page shows up to hundreds of alerts, refreshed every few seconds by every open tab,
while alerts themselves rarely change. Each alert's HTML depends only on what is shown of it,
on the viewer's role and on the labels in its one-line summary, so it is rendered once and
reused until one of those changes.

Unlike the other caches of the alerts page, this one outlives a snapshot change: its key is
what is shown of the alert, so an entry is never stale, and a sync that changes one alert of
thousands re-renders only that one. Entries of alerts that are gone age out under the budget.
"""

from django.conf import settings
from django.template.loader import get_template

from alertui import clusters
from alertui.alerts import row_context
from alertui.caches import BoundedCache

_cache = BoundedCache("alert HTML", 0.3)


def alert_html(
    alert,
    *,
    can_silence: bool,
    key_labels: tuple[str, ...],
    silences: tuple = (),
    inhibitors: tuple = (),
    expressions: tuple = (),
) -> str:
    configured = clusters.configured()
    several = len(configured) > 1  # rows name their cluster only when there are several
    reads_prometheus = any(c.prometheus for c in configured)
    cache_key = (
        alert.cluster,
        alert.fingerprint,
        alert.key,
        can_silence,
        key_labels,
        row_context.cache_key(silences, inhibitors),
        expressions,
        tuple(settings.ALERTS_LABEL_COLORS),
        reads_prometheus,
        several,
    )
    html = _cache.get(cache_key)
    if html is None:
        html = get_template("alerts/_alert.html").render(
            {
                "alert": alert,
                "can_silence": can_silence,
                "key_labels": key_labels,
                "silences": silences,
                "inhibitors": inhibitors,
                "expressions": expressions,
                "reads_prometheus": reads_prometheus,
                "several_clusters": several,
            }
        )
        _cache.put(cache_key, html)
    return html
