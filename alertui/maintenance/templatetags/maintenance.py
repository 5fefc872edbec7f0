"""Windows on other pages: a silence made by a window, linked to it; windows starting soon."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils import timezone

from alertui.maintenance.models import Materialization

register = template.Library()
# How far ahead the alerts and silences pages announce a window.
SOON = timedelta(hours=6)
State = Materialization.State


def _live_made(context) -> dict[str, Materialization]:
    """Every silence a window made that has not ended, by id: one query per page render."""
    cache = context.render_context
    if "maintenance_made" not in cache:
        rows = (
            Materialization.objects.exclude(silence_id="")
            .filter(ends_at__gt=timezone.now() - timedelta(days=5))
            .select_related("window")
        )
        cache["maintenance_made"] = {r.silence_id: r for r in rows}
    return cache["maintenance_made"]


def made_by(silence_ids) -> dict[str, Materialization]:
    """The window occurrence that made each of these silences (those a window made), by id:
    one query for a page of silences."""
    rows = Materialization.objects.filter(silence_id__in=list(silence_ids)).select_related("window")
    return {r.silence_id: r for r in rows}


@register.inclusion_tag("maintenance/_made_by.html", takes_context=True)
def made_by_window(context, silence_id, exact=False):
    """`exact` (one silence's page): looked up by id, however old the silence."""
    made = _live_made(context).get(silence_id)
    if made is None and exact:
        made = (
            Materialization.objects.filter(silence_id=silence_id).select_related("window").first()
        )
    return {"made": made}


@register.inclusion_tag("maintenance/_soon.html")
def maintenance_soon():
    """Windows running now or starting within SOON, each once, soonest first."""
    now = timezone.now()
    rows = (
        Materialization.objects.filter(
            state=State.CREATED,
            starts_at__lt=now + SOON,
            ends_at__gt=now,
            window__deleted_at=None,
            window__paused=False,
        )
        .select_related("window")
        .order_by("starts_at")
    )
    seen, shown = set(), []
    for row in rows[:50]:
        if row.window_id not in seen:
            seen.add(row.window_id)
            shown.append(row)
    return {"soon": shown[:5], "now": now}
