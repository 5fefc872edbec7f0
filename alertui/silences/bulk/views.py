"""Bulk expire and extend from the silence list: a confirmation page (GET, changes nothing),
the action (POST), and a page with each silence's result (POST, redirect, GET). Plain forms;
with htmx the result page's body is swapped in place."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from alertui.accounts.roles import silencer_required
from alertui.requestinfo import actor_for
from alertui.silences.bulk import actions

SESSION_KEY = "silence_bulk_results"
KEPT_RESULTS = 5  # the latest results a session keeps (their pages stay reloadable)


@require_GET
@silencer_required
def bulk_confirm(request):
    try:
        asked = actions.parse_request(request.GET)
    except actions.BulkError as e:
        messages.error(request, str(e))
        return redirect("silence_list")
    silences = actions.silences_of(asked)
    now = timezone.now()
    rows = []
    for silence in silences:
        row = {"silence": silence, "state": silence.current_state}
        if asked.action == "extend":
            try:
                row["new_end"] = max(silence.ends_at, now) + actions.duration(asked.by)
            except OverflowError:
                row["new_end"] = None  # it fails alone when run ("out of range")
        rows.append(row)
    ctx = {
        "asked": asked,
        "rows": rows,
        "unknown": len(asked.silence_ids) - len(silences),
    }
    return render(request, "silences/bulk_confirm.html", ctx)


@require_POST
@silencer_required
def bulk_run(request):
    try:
        asked = actions.parse_request(request.POST)
    except actions.BulkError as e:
        messages.error(request, str(e))
        if request.htmx:
            # A whole page, not a swap into the confirmation.
            return HttpResponseClientRedirect(reverse("silence_list"))
        return redirect("silence_list")
    outcomes = actions.run(actor_for(request), asked)
    key = uuid.uuid4().hex
    kept = request.session.get(SESSION_KEY, {})
    kept[key] = {
        "action": asked.action,
        "by": asked.by,
        "outcomes": [o.as_dict() for o in outcomes],
    }
    request.session[SESSION_KEY] = dict(list(kept.items())[-KEPT_RESULTS:])
    return redirect("silence_bulk_result", key)


@require_GET
@silencer_required
def bulk_result(request, key: str):
    result = request.session.get(SESSION_KEY, {}).get(key[:32])
    if result is None:
        raise Http404("These results are no longer kept; see the audit history.")
    outcomes = result["outcomes"]
    ctx = {
        "action": result["action"],
        "by": result["by"],
        "outcomes": outcomes,
        "done": sum(1 for o in outcomes if o["ok"]),
        "failed": sum(1 for o in outcomes if not o["ok"]),
        "list_url": reverse("silence_list"),
    }
    template = "silences/bulk_result.html"
    if request.htmx and not request.htmx.boosted:
        template += "#outcome"
    return render(request, template, ctx)
