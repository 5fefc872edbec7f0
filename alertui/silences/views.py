from collections import Counter
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alertui import clusters
from alertui.accounts.roles import can_silence, silencer_required
from alertui.alerts import local_changes
from alertui.alerts import queries as alert_queries
from alertui.durations import DurationError, parse_duration
from alertui.maintenance.templatetags.maintenance import made_by
from alertui.nav import htmx
from alertui.policy import web as policy_web
from alertui.requestinfo import actor_for
from alertui.scopes.access import access_for, may_change_silence, refuse_page_unless_allowed
from alertui.silence_templates.use import fill_from_template
from alertui.silences import feedback, multi, services
from alertui.silences.bulk.actions import BULK_PRESETS
from alertui.silences.forms import (
    DURATION_PRESETS,
    ExtendForm,
    SilenceForm,
    initial_for_new,
    matcher_rows,
    recreate_token,
)
from alertui.silences.list_filters import ACTIVE_ONLY, SHOWS, apply_show, clean_show
from alertui.silences.models import Silence
from alertui.silences.navigation import next_from
from alertui.silences.queries import STATES, filter_silences
from alertui.sync import health

PAGE_SIZE = 50
PREVIEW_LIMIT = 50


def _silenced_counts(silence_ids) -> Counter:
    """How many current alerts each of these silences mutes (counted once per snapshot)."""
    muted = alert_queries.muted_counts()
    return Counter({sid: muted[sid] for sid in silence_ids if sid in muted})


@require_GET
def silence_list(request):
    state = request.GET.get("state", "active")
    if state not in STATES + ("all",):
        state = "active"
    show = clean_show(request.GET.get("show", ""))
    if show in ACTIVE_ONLY:
        state = "active"
    query = request.GET.get("q", "")[:200]
    cluster = request.GET.get("cluster", "")[:63]
    found = filter_silences(state, query)
    if cluster:
        found = found.filter(cluster=cluster)
    found = apply_show(found.select_related("match"), show, request.user, timezone.now())
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = _silenced_counts(s.id for s in page)
    windows = made_by(s.id for s in page)
    access = access_for(request.user)
    for silence in page:
        silence.alert_count = counts.get(silence.id, 0)
        silence.made_by = windows.get(silence.id)
        # A box for bulk actions only on what the person may change (scopes).
        silence.selectable = silence.current_state != "expired" and access.may_change(
            silence.matcher_list, silence.cluster
        )
    ctx = {
        "note": health.note(health.ALERTMANAGER_SILENCES),
        "page": page,
        "state": state,
        "states": STATES + ("all",),
        "show": show,
        "shows": SHOWS,
        "bulk_presets": BULK_PRESETS,
        "query": query,
        "cluster": cluster,
        "several_clusters": len(clusters.names()) > 1,
        "can_silence": can_silence(request.user),
        "pager_query": urlencode({"q": query, "state": state, "cluster": cluster, "show": show}),
    }
    return htmx.list_page(request, "silences/list.html", ctx)


@require_GET
def silence_detail(request, silence_id):
    silence = get_object_or_404(Silence, pk=silence_id)
    ctx = {
        "silence": silence,
        # Edit, extend, expire, recreate: only on a silence inside the person's scopes.
        "can_silence": may_change_silence(request.user, silence),
        "next": next_from(request),
        "next_query": _next_query(request),
        "extend_presets": ("1h", "1d"),
    }
    if silence.current_state != "expired":
        # Matched against the snapshot now, so a silence just created shows its alerts at
        # once rather than after the next sync updates each alert's silencedBy. A silence mutes
        # only its own cluster's alerts.
        alerts, per_cluster = _matching_alerts(silence.matcher_list, cluster=silence.cluster)
        ctx["preview_alerts"], ctx["preview_total"] = alerts, per_cluster[silence.cluster]
    return render(request, "silences/detail.html", ctx)


def _next_query(request) -> str:
    """`?next=...` for links to the other silence pages, carrying where to go back to."""
    back = next_from(request)
    return "?" + urlencode({"next": back}) if back else ""


def _back(request, silence_id: str):
    """Where the person came from (a checked `next`), else the silence's page."""
    return redirect(next_from(request) or reverse("silence_detail", args=[silence_id]))


def _matching_alerts(matchers, cluster: str | None = None) -> tuple[list, Counter]:
    """The first matching alerts (of one cluster, when named), and how many match in each."""
    return alert_queries.matching(matchers, cluster, PREVIEW_LIMIT)


def _preview_context(rows) -> dict:
    from alertui.matchers import Matcher, MatcherError

    matchers, error = [], ""
    try:
        for name, op, value in rows:
            matcher = Matcher(name, op, value)
            matcher.validate()
            matchers.append(matcher)
    except MatcherError as e:
        error = str(e)
    alerts, per_cluster = _matching_alerts(matchers) if matchers and not error else ([], Counter())
    return {
        "alerts": alerts,
        "total": sum(per_cluster.values()),
        "per_cluster": sorted(per_cluster.items()),
        "error": error,
        "matchers": matchers,
    }


def _form_page(request, form, *, rows, title, action_url, editing=None, notices=()):
    if rows and not form.is_bound and editing is None:
        # Matchers pre-filled (an alert, a filter, a recreate): what is left to say is why.
        form.fields["comment"].widget.attrs["autofocus"] = True
    times = ("starts_at", "ends_at")
    ctx = {
        "custom_times_open": any(form[f].value() or form.errors.get(f) for f in times),
        "cancel_url": next_from(request)
        or (reverse("silence_detail", args=[editing.id]) if editing else reverse("silence_list")),
        "form": form,
        "rows": rows or [("", "=", "")],
        "operators": ("=", "!=", "=~", "!~"),
        "presets": DURATION_PRESETS,
        "title": title,
        "action_url": action_url,
        "editing": editing,
        "notices": notices,
        **_preview_context([r for r in rows if r[0]]),
    }
    return render(request, "silences/form.html", ctx, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@silencer_required
def silence_new(request):
    if request.method == "POST":
        form = SilenceForm(request.POST, user=request.user)
        if form.is_valid() and policy_web.confirmed(form, request.user, form.chosen_clusters()):
            try:
                outcomes = multi.create_in_clusters(
                    actor_for(request),
                    form.values(),
                    form.chosen_clusters(),
                    recreated_from=form.cleaned_data.get("recreated_from") or "",
                )
            except ValidationError as e:
                form.add_error(None, e)
            else:
                if len(outcomes) == 1 and outcomes[0].error:
                    form.add_error(None, outcomes[0].error.message)
                else:
                    made = feedback.report_created(request, outcomes, form.cleaned_data.get("tz"))
                    return _back(request, made.id) if made else redirect("silence_list")
        return _form_page(
            request,
            form,
            rows=form.rows,
            title="New silence",
            action_url=reverse("silence_new"),
        )
    initial, rows, notices = initial_for_new(request.GET)
    rows, template_name = fill_from_template(request.GET, initial, rows, notices)
    source_id = request.GET.get("from")
    if source_id:
        source = Silence.objects.filter(pk=source_id[:64]).first()
        if source is None:
            raise Http404("No such silence to recreate.")
        if source.current_state != "expired":
            messages.error(request, "Only an expired silence can be recreated; edit this one.")
            return redirect("silence_detail", source.id)
        rows = [tuple(m) for m in source.matchers]
        initial["comment"] = source.comment
        initial["clusters"] = [source.cluster]
        initial["recreated_from"] = recreate_token(source.id, request.user)
    form = SilenceForm(initial=initial)
    title = "Recreate silence" if source_id else "New silence"
    if template_name and not source_id:
        title = f"New silence from “{template_name}”"
    return _form_page(
        request, form, rows=rows, title=title, action_url=reverse("silence_new"), notices=notices
    )


@require_http_methods(["GET", "POST"])
@silencer_required
def silence_edit(request, silence_id):
    silence = get_object_or_404(Silence, pk=silence_id)
    if silence.current_state == "expired":
        messages.error(request, "This silence has expired; recreate it instead.")
        return redirect(f"{reverse('silence_new')}?from={silence.id}")
    action_url = reverse("silence_edit", args=[silence.id])
    if request.method == "GET":
        refuse_page_unless_allowed(request.user, silence)  # a POST is refused and audited
    if request.method == "POST":
        form = SilenceForm(request.POST, editing=silence)
        if form.is_valid() and policy_web.confirmed(form, request.user, [silence.cluster], silence):
            based_on = form.cleaned_data.get("based_on")
            try:
                changed = services.edit_silence(
                    actor_for(request), silence.id, form.values(), based_on=based_on
                )
            except services.SilenceActionError as e:
                form.add_error(None, e.message)
            except ValidationError as e:
                form.add_error(None, e)
            else:
                local_changes.silence_edited(silence.id, changed)
                if changed.id != silence.id:
                    messages.success(
                        request,
                        f"Saved. Alertmanager replaced silence {silence.id} with {changed.id}.",
                    )
                else:
                    messages.success(request, "Silence updated.")
                return _back(request, changed.id)
        return _form_page(
            request,
            form,
            rows=form.rows,
            title="Edit silence",
            action_url=action_url,
            editing=silence,
        )
    form = SilenceForm(
        initial={
            "comment": silence.comment,
            "based_on": silence.updated_at.isoformat() if silence.updated_at else "",
            "duration": "",
            "next": next_from(request),
        },
        editing=silence,
    )
    rows = [tuple(m) for m in silence.matchers]
    return _form_page(
        request, form, rows=rows, title="Edit silence", action_url=action_url, editing=silence
    )


@require_POST
@silencer_required
def silence_extend(request, silence_id):
    """Extend by a preset (`by=1h`, `by=1d`) or to a new end (`ends_at`, in the viewer's zone)."""
    silence = get_object_or_404(Silence, pk=silence_id)
    try:
        new_end, label = _requested_end(request.POST, silence)
        asked = services.SilenceValues(
            tuple(silence.matcher_list), silence.starts_at, new_end, silence.comment
        )
        warnings = policy_web.policy_warnings(request.user, silence.cluster, asked, silence)
        changed = services.extend_silence(actor_for(request), silence.id, new_end)
    except services.SilenceActionError as e:
        messages.error(request, f"Not extended: {e.message}")
    except ValidationError as e:
        messages.error(request, "Not extended: " + " ".join(e.messages))
    else:
        local_changes.silence_extended(silence.id, changed)
        until = feedback.local_time(changed.ends_at, request.POST.get("tz", "")[:64])
        messages.success(
            request, " ".join(filter(None, ["Silence extended", label, "until"])) + f" {until}."
        )
        _warn(request, warnings)
        return _back(request, changed.id)
    return _back(request, silence.id)


def _warn(request, warnings) -> None:
    """The silence policy's warnings about a change made without the form (it went ahead)."""
    for warning in warnings:
        messages.warning(request, f"The silence policy warns: {warning}")


def _requested_end(data, silence):
    if data.get("ends_at"):
        form = ExtendForm(data)
        if not form.is_valid():
            raise ValidationError("Enter the new end as a date and time.")
        try:
            new_end = form.aware_end()
        except OverflowError:
            raise ValidationError("That date is out of range.") from None
        return new_end, ""
    by = data.get("by", "")
    try:
        delta = parse_duration(by)
    except DurationError as e:
        raise ValidationError(str(e)) from None
    try:
        return max(silence.ends_at, timezone.now()) + delta, f"by {by}"
    except OverflowError:
        raise ValidationError("That end would be out of range.") from None


@require_http_methods(["GET", "POST"])
@silencer_required
def silence_expire(request, silence_id):
    silence = get_object_or_404(Silence, pk=silence_id)
    if request.method == "GET":
        refuse_page_unless_allowed(request.user, silence)  # a POST is refused and audited
        alone, shared = local_changes.muted_only_by(silence.id)
        ctx = {
            "silence": silence,
            "notify_again": alone,
            "still_muted": shared,
            "next": next_from(request),
            "cancel_url": next_from(request) or reverse("silence_detail", args=[silence.id]),
        }
        return render(request, "silences/expire.html", ctx)
    try:
        services.expire_silence(actor_for(request), silence.id)
    except services.SilenceActionError as e:
        messages.error(request, f"Not expired: {e.message}")
    else:
        effect = local_changes.silence_expired(silence.id)
        feedback.offer_undo(request, feedback.expired_text(effect), "restore", silence.id)
    return _back(request, silence.id)


@require_POST
@silencer_required
def silence_restore(request, silence_id):
    """The undo of an expire: the silence again, as it was, until the end it had."""
    silence = get_object_or_404(Silence, pk=silence_id)
    try:
        values = feedback.restore_values(silence.id)
        warnings = policy_web.policy_warnings(request.user, silence.cluster, values)
        restored = services.create_silence(
            actor_for(request), values, recreated_from=silence.id, cluster=silence.cluster
        )
    except services.SilenceActionError as e:
        messages.error(request, f"Not restored: {e.message}")
    except ValidationError as e:
        messages.error(request, "Not restored: " + " ".join(e.messages))
    else:
        effect = local_changes.silence_created(restored)
        text = feedback.created_text(restored, effect, request.POST.get("tz", "")[:64])
        feedback.offer_undo(request, text, "expire", restored.id)
        _warn(request, warnings)
        if next_from(request) == reverse("silence_detail", args=[silence.id]):
            # Undone on the expired silence's own page: show the silence that replaces it.
            return redirect("silence_detail", restored.id)
        return _back(request, restored.id)
    return _back(request, silence.id)


@require_GET
def silence_preview(request):
    """The alerts the matchers in the form would silence, from the current snapshot."""
    ctx = _preview_context(matcher_rows(request.GET))
    preview = render_to_string("silences/form.html#preview", ctx, request)
    count = render_to_string("silences/form.html#count", {**ctx, "oob": True}, request)
    return HttpResponse(preview + count)
