"""Pages of maintenance windows: the list, the form (schedule in words, next occurrences,
affected alerts), a window's page with its occurrences and history, and its actions."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alertui.accounts.roles import can_silence, silencer_required
from alertui.maintenance import services
from alertui.maintenance.clusters import configured_names
from alertui.maintenance.forms import WindowForm, initial_from
from alertui.maintenance.models import Window
from alertui.maintenance.schedule import Schedule, describe, next_occurrences
from alertui.maintenance.windows import upcoming
from alertui.requestinfo import actor_for
from alertui.scopes.access import refusal_for
from alertui.silences.forms import in_zone
from alertui.silences.services import SilenceActionError

SHOWN_OCCURRENCES = 5


@require_GET
def window_list(request):
    windows = list(Window.objects.filter(deleted_at=None).select_related("owner"))
    for window in windows:
        window.summary = describe(Schedule.of(window))
        window.next = (upcoming(window, 1) or [None])[0]
    ctx = {"windows": windows, "can_silence": can_silence(request.user)}
    return render(request, "maintenance/list.html", ctx)


def _live(window_id: int) -> Window:
    return get_object_or_404(Window, pk=window_id, deleted_at=None)


@require_GET
def window_detail(request, window_id: int):
    window = _live(window_id)
    ctx = {
        "window": window,
        "summary": describe(Schedule.of(window)),
        "occurrences": upcoming(window, 10),
        "materializations": window.materializations.order_by("-occurrence_start")[:50],
        "changes": window.changes.select_related("actor")[:50],
        # Its actions act on its silences: only for whom they are inside their scopes.
        "can_silence": can_silence(request.user)
        and not refusal_for(
            request.user, window.matcher_list, window.clusters or configured_names()
        ),
        "now": timezone.now(),
    }
    return render(request, "maintenance/detail.html", ctx)


def _form_page(request, form, *, title, action_url, window=None):
    ctx = {
        "form": form,
        "rows": form.rows or [("", "=", "")],
        "operators": ("=", "!=", "=~", "!~"),
        "title": title,
        "action_url": action_url,
        "window": window,
        "cancel_url": reverse("maintenance_detail", args=[window.pk])
        if window
        else reverse("maintenance_list"),
        **_schedule_context(form),
    }
    return render(request, "maintenance/form.html", ctx, status=400 if form.errors else 200)


def _schedule_context(form) -> dict:
    """The schedule in words and its next occurrences, for the form as it stands."""
    if not form.is_bound:
        return {"summary": "", "occurrences": [], "schedule_error": ""}
    form.is_valid()
    s = form.typed_schedule
    # A field's own error first (an unknown zone, a duration that does not parse): it is why
    # there is no schedule to show, and more use than "fill in".
    errors = [form.errors[f][0] for f in form.errors if f in _SCHEDULE_FIELDS]
    if errors:
        return {"summary": "", "occurrences": [], "schedule_error": errors[0]}
    if s is None:
        return {"summary": "", "occurrences": [], "schedule_error": "Fill in the schedule."}
    shown = next_occurrences(s, timezone.now(), SHOWN_OCCURRENCES)
    return {"summary": describe(s), "occurrences": shown, "schedule_error": ""}


_SCHEDULE_FIELDS = {
    "frequency",
    "start_date",
    "start_time",
    "duration",
    "time_zone",
    "interval",
    "weekdays",
    "month_day",
    "nth",
    "nth_weekday",
    "until",
    "count",
    "monthly",
}


def _save(request, form, action_url, title, window=None):
    if form.is_valid():
        try:
            if window is None:
                window = services.create_window(actor_for(request), form.fields_for_service())
            else:
                services.edit_window(actor_for(request), window, form.fields_for_service())
        except ValidationError as e:
            for field, errors in e.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except (services.WindowActionError, SilenceActionError) as e:
            messages.warning(request, e.message)
            return redirect("maintenance_detail", window.pk)
        else:
            messages.success(request, f"Maintenance window \u201c{window.name}\u201d saved.")
            return redirect("maintenance_detail", window.pk)
    return _form_page(request, form, title=title, action_url=action_url, window=window)


@silencer_required
@require_http_methods(["GET", "POST"])
def window_new(request):
    url = reverse("maintenance_new")
    if request.method == "POST":
        return _save(request, WindowForm(request.POST), url, "New maintenance window")
    form = WindowForm(initial={"start_date": timezone.now().date()})
    return _form_page(request, form, title="New maintenance window", action_url=url)


@silencer_required
@require_http_methods(["GET", "POST"])
def window_edit(request, window_id: int):
    window = _live(window_id)
    url = reverse("maintenance_edit", args=[window.pk])
    title = f"Edit maintenance window \u201c{window.name}\u201d"
    if request.method == "POST":
        return _save(request, WindowForm(request.POST), url, title, window)
    form = WindowForm(initial=initial_from(window))
    form.rows = [tuple(m) for m in window.matchers]
    return _form_page(request, form, title=title, action_url=url, window=window)


@require_GET
def schedule_preview(request):
    """The schedule in words and its next occurrences, as the form stands (htmx)."""
    ctx = _schedule_context(WindowForm(request.GET))
    return render(request, "maintenance/form.html#schedule", ctx)


def _act(request, window_id: int, action, done: str):
    window = _live(window_id)
    try:
        action(actor_for(request), window)
    except (services.WindowActionError, SilenceActionError) as e:
        messages.warning(request, e.message)
    else:
        messages.success(request, done.format(name=window.name))
    if "delete" in done:
        return redirect("maintenance_list")
    return redirect("maintenance_detail", window.pk)


@silencer_required
@require_POST
def window_pause(request, window_id: int):
    return _act(request, window_id, services.pause_window, "Paused \u201c{name}\u201d.")


@silencer_required
@require_POST
def window_resume(request, window_id: int):
    return _act(request, window_id, services.resume_window, "Resumed \u201c{name}\u201d.")


@silencer_required
@require_POST
def window_delete(request, window_id: int):
    return _act(request, window_id, services.delete_window, "Window \u201c{name}\u201d deleted.")


def _occurrence(request):
    value = parse_datetime(request.POST.get("occurrence", "")[:64])
    if value is None or timezone.is_naive(value):
        raise Http404("no such occurrence")
    return value


@silencer_required
@require_POST
def window_end_early(request, window_id: int):
    occurrence = _occurrence(request)
    action = lambda actor, window: services.end_occurrence_early(actor, window, occurrence)  # noqa: E731
    return _act(request, window_id, action, "Occurrence of \u201c{name}\u201d ended.")


@silencer_required
@require_POST
def window_skip(request, window_id: int):
    occurrence = _occurrence(request)
    action = lambda actor, window: services.skip_occurrence(actor, window, occurrence)  # noqa: E731
    return _act(request, window_id, action, "Occurrence of \u201c{name}\u201d skipped.")


@silencer_required
@require_POST
def window_move(request, window_id: int):
    """Move one occurrence to times typed in the viewer's zone (`tz`, filled in by the page)."""
    occurrence = _occurrence(request)
    times = []
    for field in ("starts_at", "ends_at"):
        value = parse_datetime(request.POST.get(field, "")[:40])
        if value is None:
            messages.warning(request, "Give the new start and end.")
            return redirect("maintenance_detail", window_id)
        try:
            times.append(in_zone(value, request.POST.get("tz", "")[:64]))
        except OverflowError:
            messages.warning(request, "That date is out of range.")
            return redirect("maintenance_detail", window_id)

    def move(actor, window):
        try:
            services.move_occurrence(actor, window, occurrence, *times)
        except ValidationError as e:
            raise services.WindowActionError(" ".join(e.messages)) from None

    return _act(request, window_id, move, "Occurrence of \u201c{name}\u201d moved.")
