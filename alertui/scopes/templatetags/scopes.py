from django import template

from alertui.scopes.access import access_for

register = template.Library()


@register.inclusion_tag("scopes/_hint.html", takes_context=True)
def your_scopes(context) -> dict:
    """For a scoped person, where the silence form's silence must stay (nothing otherwise)."""
    request = context.get("request")
    access = access_for(request.user) if request is not None else None
    return {"scopes": access.scopes if access is not None and access.restricted else ()}
