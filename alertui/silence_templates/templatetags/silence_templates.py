from django import template
from django.urls import reverse
from django.utils.http import urlencode

from alertui.silence_templates.models import SilenceTemplate

register = template.Library()

# Templates a picker lists (by name): bounds the menu; the rest are on the templates page.
PICKER_LIMIT = 30


@register.inclusion_tag("silence_templates/_picker.html")
def template_picker(next_url: str = "", label: str = "From a template"):
    """Links to the new-silence form filled from each template."""
    base = reverse("silence_new")
    links = []
    for t in SilenceTemplate.objects.only("id", "name", "matchers_text")[:PICKER_LIMIT]:
        query = {"template": t.pk, **({"next": next_url} if next_url else {})}
        links.append((t, f"{base}?{urlencode(query)}"))
    return {"links": links, "label": label}
