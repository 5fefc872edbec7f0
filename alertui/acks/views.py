"""Acknowledge an alert or a group from the alerts page, and end an acknowledgement.

The page has one acknowledgement form (the duration to choose); each alert's and group's
Acknowledge button submits it with what it acknowledges, so the cached rows carry a button,
not a form. The forms have no CSRF token of their own: alerts.js adds it, as for the rows'
other actions. Both send the person back where they were (`next`)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from alertui.accounts.roles import silencer_required
from alertui.acks import services
from alertui.acks.models import Acknowledgement
from alertui.alerts import local_changes, snapshot
from alertui.durations import DurationError, format_duration, parse_duration
from alertui.matchers import Matcher, MatcherError, parse_matchers
from alertui.requestinfo import actor_for
from alertui.silences.multi import chosen_clusters
from alertui.silences.navigation import next_from
from alertui.silences.services import SilenceActionError

MAX_FILTER = 20_000


def _back(request):
    return redirect(next_from(request) or "alert_list")


def _targets(data) -> list[tuple[str, list[Matcher]]]:
    """(cluster, matchers) of what is acknowledged: one alert, `alert=<fingerprint>@<cluster>`
    (all its labels), or a group, `group=<cluster>,... <matchers>` (the labels its alerts
    share, in each cluster they fire in). ValidationError saying why not."""
    if data.get("alert"):
        fingerprint, _, cluster = data["alert"][:200].partition("@")
        found = next(
            (
                a
                for a in snapshot.current_alerts()
                if a.fingerprint == fingerprint and a.cluster == cluster
            ),
            None,
        )
        if found is None:
            raise ValidationError("That alert is no longer firing (or alertui has not read it).")
        matchers = [Matcher(k, "=", v) for k, v in sorted(found.labels.items())]
        return [(found.cluster, matchers)]
    names, _, text = data.get("group", "").partition(" ")
    if not text.strip() or len(text) > MAX_FILTER:
        raise ValidationError("Say what to acknowledge: an alert or a group.")
    try:
        matchers = parse_matchers(text)
    except MatcherError as e:
        raise ValidationError(f"Matchers: {e}") from None
    return [(cluster, matchers) for cluster in chosen_clusters(names.split(","))]


def _step(data):
    try:
        return parse_duration(
            data.get("duration", "")[:40] or format_duration(services.default_step())
        )
    except DurationError as e:
        raise ValidationError(str(e)) from None


@require_POST
@silencer_required
def acknowledge(request):
    try:
        step = _step(request.POST)
        targets = _targets(request.POST)
    except ValidationError as e:
        messages.error(request, "Not acknowledged: " + " ".join(e.messages))
        return _back(request)
    made = []
    for cluster, matchers in targets:
        try:
            _, silence = services.acknowledge(actor_for(request), matchers, cluster, step)
        except SilenceActionError as e:
            messages.error(request, f"Not acknowledged in {cluster}: {e.message}")
            continue
        except ValidationError as e:
            messages.error(request, "Not acknowledged: " + " ".join(e.messages))
            continue
        local_changes.silence_created(silence)
        made.append(silence)
    if made:
        messages.success(
            request,
            f"Acknowledged for {format_duration(step)}, in your name. alertui extends it while "
            "the alerts fire and ends it once they have resolved.",
        )
    return _back(request)


@require_POST
@silencer_required
def end(request, silence_id):
    ack = get_object_or_404(Acknowledgement, silence_id=silence_id[:64])
    if not ack.active:
        messages.info(request, "This acknowledgement had already ended.")
        return _back(request)
    try:
        services.end(actor_for(request), ack)
    except SilenceActionError as e:
        messages.error(request, f"Not ended: {e.message}")
        return _back(request)
    local_changes.silence_expired(ack.silence_id)
    messages.success(request, f"Acknowledgement of {ack.person_name} ended.")
    return _back(request)
