"""The policy's hook in silences.services: every silence written through alertui (browser, API,
maintenance windows, anything later) passes here before anything is sent to Alertmanager.

A refusal is recorded as a failed attempt ("refused by policy: <rule>: <why>") with what was
asked for, and raised as a SilenceActionError with reason "policy"; warnings are returned,
for the caller to show.
"""

from __future__ import annotations

from django.utils import timezone

from alertui.integrations.alertmanager import SilenceRequest
from alertui.policy.engine import Verdict, evaluate
from alertui.silences import recorder


def check_policy(
    actor: recorder.Actor, action: str, cluster: str, values, *, current=None
) -> Verdict:
    """Judge `values` (silences.services.SilenceValues) in `cluster`; `current` is
    Alertmanager's version of a silence being changed (None for a new one)."""
    from alertui.silences.services import SilenceActionError

    starts_at = own_start(values.starts_at, current)
    verdict = evaluate(
        actor.user, cluster, values.matchers, starts_at, values.ends_at, _written(actor, values)
    )
    if verdict.refusals:
        message = verdict.refusal_text()
        request = SilenceRequest(
            values.matchers,
            values.starts_at,
            values.ends_at,
            current.created_by if current is not None else actor.name,
            values.comment.strip(),
        )
        recorder.refuse_request(
            actor,
            action,
            request,
            message,
            silence_id=current.id if current is not None else "",
            before=recorder.snapshot(current) if current is not None else None,
            cluster=cluster,
        )
        raise SilenceActionError(message[:1000], "policy")
    return verdict


def _written(actor: recorder.Actor, values) -> str:
    """The comment a person wrote: a maintenance window's silence is judged on the window's
    comment, not on the window's name and marker lines alertui appends to it (a rule anchored
    with ^...$ could otherwise never be met by a window)."""
    from alertui.audit.models import AuditEvent
    from alertui.maintenance.occurrence_silence import written_comment

    if actor.source == AuditEvent.Source.MAINTENANCE:
        return written_comment(values.comment)
    return values.comment


def own_start(requested, current=None):
    """When the silence really starts, as the maximum duration counts: now for a new one
    asked to start in the past (Alertmanager starts it now), the start it has for an active
    one whose start is not moved into the future (silences.services._start_to_send)."""
    now = timezone.now()
    if current is None:
        return max(requested, now)
    if current.state == "active" and requested <= now:
        return current.starts_at
    return requested
