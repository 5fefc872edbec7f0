"""One place deciding between a list page's htmx partial and its full page (netbox's
utilities/htmx.py): an htmx request (a poll, a filter or page change; not a boosted link,
which wants the whole page) gets the page's `results` partial, followed by the nav counters
as an out-of-band swap so they move with the list."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string


def wants_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted


def counters(request: HttpRequest) -> str:
    """The nav counters, marked to replace the page's own out of band."""
    return render_to_string("_nav_counts.html", {"oob": True}, request)


def partial(request: HttpRequest, html: str) -> HttpResponse:
    """An already rendered partial, with the counters."""
    return HttpResponse(html + counters(request))


def list_page(
    request: HttpRequest, template: str, ctx: dict, name: str = "results"
) -> HttpResponse:
    """`template`, or its partial `name` with the counters for an htmx request."""
    if wants_partial(request):
        return partial(request, render_to_string(f"{template}#{name}", ctx, request))
    return render(request, template, ctx)
