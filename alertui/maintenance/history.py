"""Every change of every maintenance window, deleted ones included: the team's record of who
planned, edited, paused, resumed and deleted which window, and which occurrences were missed.

A window's own page shows its latest changes; a deleted window has no page, so this is where its
history stays readable."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from alertui.maintenance.models import WindowChange

PER_PAGE = 50
# Longer than any username: a longer value matches nobody, so it is refused, not cut.
PERSON_MAX = 150


@require_GET
def window_history(request):
    changes = WindowChange.objects.select_related("window").order_by("-at", "-id")
    errors = []
    person = request.GET.get("person", "").strip()
    action = request.GET.get("action", "")
    window = request.GET.get("window", "")
    if len(person) > PERSON_MAX:
        errors.append(f"A person's name is at most {PERSON_MAX} characters.")
    elif person:
        changes = changes.filter(actor_name=person)
    if action and action not in WindowChange.Action.values:
        errors.append("Choose an action from the list.")
    elif action:
        changes = changes.filter(action=action)
    if window and not (window.isascii() and window.isdigit() and len(window) < 12):
        errors.append("The window must be given by its number.")
    elif window:
        changes = changes.filter(window_id=int(window))
    if errors:
        changes = changes.none()
    query = urlencode(
        {k: v for k, v in (("person", person), ("action", action), ("window", window)) if v}
    )
    ctx = {
        "page": Paginator(changes, PER_PAGE).get_page(request.GET.get("page")),
        "person": person,
        "action": action,
        "window": window,
        "actions": WindowChange.Action.choices,
        "errors": errors,
        "query": query,
    }
    return render(request, "maintenance/history.html", ctx, status=400 if errors else 200)
