"""Acknowledge and end an acknowledgement. The silence is made and expired through the silence
services (alertui.silences.services), so it is validated, sent and audited like any other:
made in the person's name, ended by whoever ends it."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone

from alertui.acks import marker
from alertui.acks.models import Acknowledgement
from alertui.audit.models import AuditEvent
from alertui.durations import format_duration, parse_duration
from alertui.locks import LockBusy, change_lock_timeout, serialized
from alertui.matchers import Matcher, format_matchers
from alertui.silences import services
from alertui.silences.models import Silence
from alertui.silences.recorder import Actor

PRESETS = ("15m", "30m", "1h", "2h", "4h")
MAX_COMMENT = 500


def default_step() -> timedelta:
    return timedelta(seconds=settings.ACK_DURATION)


def max_duration() -> timedelta:
    return timedelta(seconds=settings.ACK_MAX_DURATION)


def grace() -> timedelta:
    return timedelta(seconds=settings.ACK_GRACE)


def choices() -> list[tuple[str, bool]]:
    """The durations offered (text, whether it is the default), none longer than the maximum."""
    default = default_step()
    steps = {parse_duration(p) for p in PRESETS} | {default}
    return [(format_duration(s), s == default) for s in sorted(steps) if s <= max_duration()]


def actor_for(ack: Acknowledgement) -> Actor:
    """Who the job's changes are credited to: the acknowledgement, in its person's name (no
    person clicked anything; Alertmanager keeps showing them as the creator)."""
    return Actor(
        ack.person,
        source=AuditEvent.Source.ACKNOWLEDGEMENT,
        label=f"the acknowledgement of {ack.person_name}",
    )


def acknowledge(
    actor: Actor, matchers: list[Matcher], cluster: str, step: timedelta, comment: str = ""
) -> tuple[Acknowledgement, Silence]:
    """A silence of `step` in the person's name, marked as an acknowledgement, that the job
    extends while its alerts fire (never past ACK_MAX_DURATION in all)."""
    if step < timedelta(minutes=1) or step > max_duration():
        raise ValidationError(
            f"An acknowledgement lasts between 1m and {format_duration(max_duration())} "
            "(ACK_MAX_DURATION) at a time."
        )
    if len(comment) > MAX_COMMENT:
        raise ValidationError(f"Keep the note under {MAX_COMMENT} characters.")
    # Two presses at once (two tabs): one after the other, so the second sees the first.
    key = hashlib.sha256(f"{cluster}\n{format_matchers(matchers)}".encode()).hexdigest()
    try:
        with serialized(f"acknowledge:{key}", timeout=change_lock_timeout(cluster)):
            return _acknowledge(actor, matchers, cluster, step, comment)
    except LockBusy:
        raise ValidationError("Someone is acknowledging this right now; try again.") from None


def _acknowledge(actor, matchers, cluster, step, comment):
    _refuse_if_acknowledged(matchers, cluster)
    now = timezone.now()
    annotated = marker.cluster_keeps_annotations(cluster)
    text, annotations = marker.mark(actor.name, comment, annotated)
    values = services.SilenceValues(tuple(matchers), now, now + step, text, annotations)
    silence = services.create_silence(actor, values, cluster=cluster, note="Acknowledgement")
    ack = Acknowledgement.objects.create(
        silence_id=silence.id,
        cluster=silence.cluster,
        person=actor.user,
        person_name=actor.name[:150],
        matchers_text=silence.matchers_text,
        created_at=now,
        step=step,
        max_until=now + max_duration(),
    )
    return ack, silence


def _refuse_if_acknowledged(matchers: list[Matcher], cluster: str) -> None:
    """Two tabs, or two people at once: a second silence would keep the alerts silenced after
    an End of the first. One at its last extension (the notice says "unless someone
    acknowledges again"), stopped by the policy or whose silence ended may be acknowledged
    anew."""
    now = timezone.now()
    going = Acknowledgement.objects.filter(
        cluster=cluster, matchers_text=format_matchers(matchers), ended_at=None
    )
    for already in going[:20]:
        # Its silence ended elsewhere (expired in another UI) but the job has not said so yet:
        # no End button to press, so it does not stand in the way.
        silenced = Silence.objects.filter(pk=already.silence_id, ends_at__gt=now).exists()
        if silenced and now + already.step < already.max_until:
            raise ValidationError(
                f"Already acknowledged by {already.person_name} at "
                f"{already.created_at:%Y-%m-%d %H:%M} UTC; end that one first to acknowledge "
                "anew."
            )


def end(actor: Actor, ack: Acknowledgement) -> Silence | None:
    """End the acknowledgement now: its silence expired by `actor`. An acknowledgement whose
    silence had already ended is simply marked ended."""
    try:
        silence = services.expire_silence(actor, ack.silence_id)
    except services.SilenceActionError as e:
        if e.reason not in ("conflict", "not_found"):
            raise
        silence = None
    mark_ended(ack, Acknowledgement.Ending.ENDED_BY_PERSON)
    return silence


def mark_ended(ack: Acknowledgement, ending: str) -> bool:
    """Record the end once (whoever marks it first); True for that one."""
    now = timezone.now()
    done = Acknowledgement.objects.filter(pk=ack.pk, ended_at=None).update(
        ended_at=now, ending=ending, revision=F("revision") + 1
    )
    if done:
        ack.ended_at, ack.ending = now, ending
    return bool(done)
