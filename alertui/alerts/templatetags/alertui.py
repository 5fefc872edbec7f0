from datetime import datetime

from django import template
from django.utils import timezone

from alertui.durations import format_duration
from alertui.integrations import values

register = template.Library()


@register.filter
def http_url(value) -> str:
    """The value if it is an http(s) URL, else "": annotations are attacker-controlled, and a
    `javascript:` or `data:` link must never be rendered."""
    return values.http_url(value)


@register.filter
def is_id(value) -> bool:
    """True for a silence id or fingerprint that can be put in a link: a stored value may
    predate the sync's checks, and reversing a URL with "" or "a/b" fails the whole page."""
    return isinstance(value, str) and values.ID.fullmatch(value) is not None


@register.filter
def firing_for(value: datetime | None) -> str:
    if not value:
        return ""
    return format_duration(timezone.now() - value)


LABEL_HUES = 8  # colours in static/css/alerts.css (.hue-0 ... .hue-7)


@register.filter
def label_hue(value, name) -> str:
    """`hue-N` for a value of a label chosen in ALERTS_LABEL_COLORS, the same N for the same
    value everywhere (a checksum, not Python's per-process hash); "" for other labels."""
    from zlib import crc32

    from django.conf import settings

    if name not in settings.ALERTS_LABEL_COLORS:
        return ""
    return f"hue-{crc32(str(value).encode()) % LABEL_HUES}"


@register.filter
def filter_text(value, name) -> str:
    """`name="value"`, quoted as the filter box reads it back."""
    from alertui.matchers import Matcher

    return str(Matcher(str(name), "=", str(value)))


@register.filter
def time_left(value: datetime | None) -> str:
    if not value:
        return ""
    return format_duration(value - timezone.now())  # 0s once past


@register.filter
def get_item(mapping, key):
    return mapping.get(key, 0) if mapping else 0


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (None removes one)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        params.pop(key, None)
        if value is not None:
            params[key] = value
    return params.urlencode()


@register.filter
def silence_query(labels: dict) -> str:
    """The query string that pre-fills the silence form with exactly these labels."""
    from urllib.parse import urlencode

    from alertui.matchers import Matcher, format_matchers

    # A label too long for a link is left out: the form's preview shows what the remaining
    # matchers would silence.
    matchers = [
        Matcher(k, "=", v) for k, v in sorted(labels.items()) if len(k) <= 200 and len(v) <= 1000
    ]
    return urlencode({"filter": format_matchers(matchers)})


@register.filter
def silenceable_by(group, access) -> bool:
    """May the viewer make the group's silence ("Silence group": its common labels, in each
    of its clusters)? Always, without scopes."""
    if access is None or access.unrestricted:
        return True
    return all(access.may_silence_labels(group.common_labels, c) for c in group.clusters)


@register.filter
def duration_text(value) -> str:
    return format_duration(value) if value is not None else ""


@register.simple_tag(takes_context=True)
def render_alert(context, alert) -> str:
    from django.utils.safestring import mark_safe

    from alertui.alerts import row_context
    from alertui.alerts.rendering import alert_html

    rules = context.get("rules")
    access = context.get("scope_access")
    html = alert_html(
        alert,
        # The Silence button pre-fills exactly the alert's labels: offered when that silence
        # is inside the viewer's scopes (alertui.scopes).
        can_silence=bool(context.get("can_silence"))
        and (access is None or access.may_silence_labels(alert.labels, alert.cluster)),
        key_labels=tuple(context.get("key_labels") or ()),
        expressions=rules.expressions(alert.alertname, alert.labels) if rules else (),
        silences=row_context.row_silences(alert, context.get("silence_info") or {}),
        inhibitors=row_context.row_inhibitors(alert, context.get("everything") or []),
    )
    return mark_safe(html)  # rendered by the autoescaping template alerts/_alert.html


@register.filter
def clip(value, length: int) -> str:
    """Like truncatechars, much cheaper: the alerts page calls it thousands of times."""
    text = str(value)
    return text if len(text) <= length else text[: max(0, length - 1)] + "…"
