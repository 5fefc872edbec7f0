"""The one writer of silence state: the local mirror rows and the audit rows of silence changes.

Every writer goes through here with an actor: the browser and API (silences.services), the sync
of changes made outside alertui (silences.sync), and later schedules and acknowledgements. A
change recorded here writes its mirror row and its audit row in one transaction, from one list
of fields, so no writer can record a silence differently from another.

A change made by a person starts as a PendingChange (`begin`), written before Alertmanager is
called; whoever deletes it (`complete` or `fail`: the request, or the sync after a crash) writes
the change's one audit row. Changes nobody in alertui asked for are recorded by `observe`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from alertui.audit.models import AuditEvent, PendingChange
from alertui.integrations.alertmanager import Silence as AmSilence
from alertui.integrations.alertmanager import SilenceRequest
from alertui.matchers import format_matchers
from alertui.silences.models import Silence

Action = AuditEvent.Action
Outcome = AuditEvent.Outcome


@dataclass(frozen=True)
class Actor:
    """Who makes a change through alertui, and from where."""

    user: object  # the authenticated user
    source: str = AuditEvent.Source.BROWSER
    remote_addr: str | None = None
    request_id: str = ""
    api_token: str = ""  # the API token's name and key prefix, for changes made through the API
    # Who the audit names when it is not the user alone: "maintenance window X, owner Y".
    label: str = ""

    @property
    def name(self) -> str:
        return self.user.get_username()

    @property
    def audit_name(self) -> str:
        return (self.label or self.name)[:255]


def snapshot(silence) -> dict:
    """The audit's before/after form of a silence (a mirror row, Alertmanager's, or a request)."""
    matchers = silence.matcher_list if isinstance(silence, Silence) else silence.matchers
    return {
        "matchers": [str(m) for m in matchers],
        "startsAt": silence.starts_at.isoformat(),
        "endsAt": silence.ends_at.isoformat(),
        "createdBy": silence.created_by,
        "comment": silence.comment,
    }


def _silence_fields(silence) -> dict:
    """The silence's own values as an audit row holds them."""
    return {
        "matchers": [[m.name, m.op, m.value] for m in silence.matchers],
        "matchers_text": format_matchers(silence.matchers),
        "starts_at": silence.starts_at,
        "ends_at": silence.ends_at,
        "comment": silence.comment,
    }


def _intent_fields(intent: PendingChange) -> dict:
    """Who asked for a change and from where, as its audit row names them."""
    return {
        "cluster": intent.cluster,
        "action_id": intent.action_id,
        "source": intent.source,
        "actor": intent.actor,
        "actor_name": intent.actor_name,
        "before": intent.before,
        "remote_addr": intent.remote_addr,
        "request_id": intent.request_id,
        "api_token": intent.api_token,
    }


# -- the mirror --------------------------------------------------------------------------------


def mirror(am: AmSilence, cluster: str, **extra) -> Silence:
    """Insert or update the local copy of a silence from what Alertmanager returned.

    On its own only for what needs no audit row: reading back a silence, or a state that moved
    with time. Changes are recorded with `complete` or `observe`, which call this."""
    row = Silence.objects.filter(pk=am.id).first() or Silence(id=am.id, cluster=cluster)
    row.set_matchers(am.matchers)
    row.starts_at = am.starts_at
    row.ends_at = am.ends_at
    row.created_by = am.created_by
    row.comment = am.comment
    row.updated_at = am.updated_at
    row.state = am.state
    row.in_alertmanager = True
    row.last_seen_at = timezone.now()
    for key, value in extra.items():
        setattr(row, key, value)
    row.save()
    return row


def mark_held(silence_ids) -> None:
    """Alertmanager holds these silences again (after a restart that lost them for a while)."""
    Silence.objects.filter(pk__in=silence_ids, in_alertmanager=False).update(
        in_alertmanager=True, last_seen_at=timezone.now()
    )


def mark_forgotten_except(cluster: str, held_ids, read_at: datetime) -> None:
    """Every mirrored silence not among `held_ids`, Alertmanager's silences as read at
    `read_at`, is gone from Alertmanager (it forgets them 120 h after they end); the rows stay,
    for their history. A row mirrored since then (a silence made meanwhile) is left alone."""
    mine = Silence.objects.filter(cluster=cluster)
    mine.filter(in_alertmanager=True, last_seen_at__lt=read_at).exclude(id__in=held_ids).update(
        in_alertmanager=False
    )


# -- changes made through alertui ------------------------------------------------------------


def begin(
    actor: Actor,
    action: str,
    request: SilenceRequest | None,
    *,
    silence_id: str,
    before,
    cluster: str,
    action_id: str = "",
) -> PendingChange:
    """The intent of a change, written before Alertmanager is called: exactly what is sent."""
    fields = {}
    if request is not None:
        fields = {
            "matchers": [[m.name, m.op, m.value] for m in request.matchers],
            "matchers_text": format_matchers(request.matchers),
            "starts_at": request.starts_at,
            "ends_at": request.ends_at,
            "created_by": request.created_by,
            "comment": request.comment,
        }
    return PendingChange.objects.create(
        cluster=cluster,
        action_id=action_id,
        action=action,
        source=actor.source,
        actor=actor.user,
        actor_name=actor.audit_name,
        silence_id=silence_id,
        before=before,
        remote_addr=actor.remote_addr,
        request_id=actor.request_id,
        api_token=actor.api_token,
        **fields,
    )


def complete(
    intent: PendingChange,
    am: AmSilence,
    *,
    action: str = "",
    previous_id: str = "",
    note: str = "",
    at: datetime | None = None,
) -> Silence:
    """The change happened and Alertmanager holds `am`: claim the intent, write its audit row
    and the mirror. Whoever claims the intent first records it; a second caller only mirrors."""
    with transaction.atomic():
        claimed, _ = PendingChange.objects.filter(pk=intent.pk).delete()
        row = mirror(am, intent.cluster)
        if claimed:
            AuditEvent.objects.create(
                **_intent_fields(intent),
                **_silence_fields(am),
                at=at or timezone.now(),
                action=action or intent.action,
                silence_id=am.id,
                previous_silence_id=previous_id,
                after=snapshot(am),
                note=note,
            )
    return row


def fail(
    intent: PendingChange, error: str, *, note: str = "", outcome: str = Outcome.FAILED
) -> None:
    """The change did not happen (FAILED), or nobody can tell whether it did (UNKNOWN)."""
    with transaction.atomic():
        claimed, _ = PendingChange.objects.filter(pk=intent.pk).delete()
        if claimed:
            AuditEvent.objects.create(
                **_intent_fields(intent),
                action=intent.action,
                outcome=outcome,
                error=error,
                note=note,
                silence_id=intent.silence_id,
                matchers=intent.matchers,
                matchers_text=intent.matchers_text,
                starts_at=intent.starts_at,
                ends_at=intent.ends_at,
                comment=intent.comment,
            )


def refuse(
    actor: Actor, action: str, silence_id: str, error: str, current=None, *, cluster: str
) -> None:
    """A change refused before anything was sent (the silence changed or ended meanwhile)."""
    request = None
    if current is not None:
        request = SilenceRequest(
            current.matchers,
            current.starts_at,
            current.ends_at,
            current.created_by,
            current.comment,
        )
    before = snapshot(current) if current is not None else None
    intent = begin(actor, action, request, silence_id=silence_id, before=before, cluster=cluster)
    fail(intent, error)


def refuse_request(
    actor: Actor,
    action: str,
    request: SilenceRequest,
    error: str,
    *,
    silence_id: str = "",
    before=None,
    cluster: str,
) -> None:
    """A change refused before anything was sent, recorded with what was asked for (the
    silence policy's refusals: the audit shows what was tried)."""
    intent = begin(actor, action, request, silence_id=silence_id, before=before, cluster=cluster)
    fail(intent, error)


# -- changes seen in Alertmanager ------------------------------------------------------------


@dataclass(frozen=True)
class Observed:
    """One change the sync saw in Alertmanager that no intent of alertui explains."""

    action: str
    at: datetime
    note: str = ""


def observe(
    cluster: str, am: AmSilence, row: Silence | None, observed: list[Observed], **mirror_extra
) -> None:
    """Record changes made outside alertui (amtool, another UI, time) and mirror the result.

    Must run inside the caller's transaction holding the mirror row's lock (the sync's), so two
    runs cannot record one change twice."""
    before = snapshot(row) if row is not None else None
    if row is None:
        # A concurrent run would fail this insert with IntegrityError and roll back.
        Silence.objects.create(
            id=am.id,
            cluster=cluster,
            starts_at=am.starts_at,
            ends_at=am.ends_at,
            first_seen_at=timezone.now(),
        )
    mirror(am, cluster, **mirror_extra)
    for change in observed:
        AuditEvent.objects.create(
            cluster=cluster,
            **_silence_fields(am),
            at=change.at,
            action=change.action,
            source=AuditEvent.Source.SYNC,
            # Alertmanager names only a silence's creator, in free text (in full in `after`).
            actor_name=am.created_by[:255] if change.action == Action.CREATED else "",
            silence_id=am.id,
            before=before,
            after=snapshot(am),
            note=change.note,
        )
