"""The policy in the silence form: the live verdict beside the preview, and the confirmation a
warning asks for before anything is sent.

Refusals are not stopped here: the form sends them on to silences.services, whose policy
check refuses them and records the attempt, so a refusal has its audit row whichever way it
came.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.shortcuts import render
from django.views.decorators.http import require_GET

from alertui.accounts.roles import silencer_required
from alertui.clusters import names as cluster_names
from alertui.policy.enforce import own_start
from alertui.policy.engine import Verdict, evaluate

CONFIRM_FIELD = "policy_confirmed"


def verdict_for(user, clusters, data: dict, editing=None) -> Verdict:
    """The verdict on a silence form's cleaned data, over the clusters it is made in (each
    finding names its cluster when there are several)."""
    matchers = data.get("matchers") or ()
    starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
    if starts_at is not None:
        starts_at = own_start(starts_at, _as_current(editing))
    prefix = len(clusters) > 1
    verdict = Verdict()
    for cluster in clusters:
        found = evaluate(user, cluster, matchers, starts_at, ends_at, data.get("comment") or "")
        verdict = verdict.merged(found, f"{cluster}: " if prefix else "")
    return verdict


def policy_warnings(user, cluster: str, values, editing=None) -> tuple:
    """The warnings about silences.services.SilenceValues in one cluster (for the API's
    answer; its refusals are the services' to make)."""
    data = {
        "matchers": values.matchers,
        "starts_at": values.starts_at,
        "ends_at": values.ends_at,
        "comment": values.comment,
    }
    return verdict_for(user, [cluster], data, editing).warnings


def _as_current(editing):
    """What own_start reads of Alertmanager's silence, from the mirror row being edited."""
    if editing is None:
        return None
    return SimpleNamespace(state=editing.current_state, starts_at=editing.starts_at)


def confirmed(form, user, clusters, editing=None) -> bool:
    """True when the form may be sent: no warnings, warnings the person confirmed, or a
    refusal in the one cluster (services refuse and record it). Otherwise the form is given
    the verdict and an error asking to confirm."""
    if form.data.get(CONFIRM_FIELD):
        return True
    verdict = verdict_for(user, clusters, form.cleaned_data, editing)
    if not verdict.warnings or (verdict.refusals and len(clusters) == 1):
        # A refusal in one of several clusters leaves the others' silences to be made: their
        # warnings are confirmed first, like any other.
        return True
    form.policy_verdict = verdict
    form.add_error(
        None,
        "The silence policy warns about this silence: read the warnings, then tick "
        "“Go ahead despite the warnings” and send it again.",
    )
    return False


@require_GET
@silencer_required
def policy_preview(request):
    """The verdict on the silence form as it is now filled in (htmx, beside the preview)."""
    from alertui.silences.forms import SilenceForm
    from alertui.silences.models import Silence

    editing = None
    if request.GET.get("editing"):
        editing = Silence.objects.filter(pk=request.GET["editing"][:64]).first()
    form = SilenceForm(request.GET, editing=editing, user=request.user)
    form.is_valid()  # the errors are the form's to show; judged is what could be read
    data = getattr(form, "cleaned_data", {})
    if editing is not None:
        clusters = [editing.cluster]
    else:
        clusters = [c for c in cluster_names() if c in request.GET.getlist("clusters")]
        clusters = clusters or cluster_names()[:1]
    verdict = verdict_for(request.user, clusters, data, editing)
    return render(request, "policy/_verdict.html", {"verdict": verdict})
