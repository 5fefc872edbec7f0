from django import template

from alertui.acks import services
from alertui.matchers import Matcher, format_matchers

register = template.Library()


@register.simple_tag
def ack_choices() -> list[tuple[str, bool]]:
    """The durations an acknowledgement can be made for: (text, is the default)."""
    return services.choices()


@register.filter
def matcher_text(labels: dict) -> str:
    """A group's shared labels as the matchers its acknowledgement sends. A label too long to
    send is left out (as from Silence group's link): the rest still name the group."""
    return format_matchers(
        Matcher(k, "=", v) for k, v in sorted(labels.items()) if len(k) <= 200 and len(v) <= 1000
    )
