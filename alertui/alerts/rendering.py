"""Rendered HTML of single alerts, kept between requests.

The alerts page shows up to hundreds of alerts, refreshed every few seconds by every open tab,
while alerts themselves rarely change. Each alert's HTML depends only on what is shown of it,
on the viewer's role and on the labels in its one-line summary, so it is rendered once and
reused until one of those changes.
"""

from collections import OrderedDict
from threading import Lock

from django.template.loader import get_template

MAX_ENTRIES = 30_000

_cache: OrderedDict = OrderedDict()
_lock = Lock()


def alert_html(alert, *, can_silence: bool, key_labels: tuple[str, ...]) -> str:
    cache_key = (alert.key, can_silence, key_labels)
    with _lock:
        html = _cache.get(cache_key)
        if html is not None:
            _cache.move_to_end(cache_key)
            return html
    html = get_template("alerts/_alert.html").render(
        {"alert": alert, "can_silence": can_silence, "key_labels": key_labels}
    )
    with _lock:
        _cache[cache_key] = html
        while len(_cache) > MAX_ENTRIES:
            _cache.popitem(last=False)
    return html
