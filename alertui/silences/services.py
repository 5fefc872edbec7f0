"""Silence changes: validated, sent to Alertmanager, mirrored and audited.

Every change follows the same path (see `_run`): validate, write a PendingChange intent, call
Alertmanager, then in one transaction claim the intent, write the AuditEvent and update the
mirror. If the process dies after Alertmanager applied the change, the intent survives and the
sync job records the change from it, so nothing that reached Alertmanager goes unrecorded.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alertui import clients
from alertui.audit.models import AuditEvent, PendingChange
from alertui.integrations.alertmanager import (
    AlertmanagerClient,
    AlertmanagerError,
    AlertmanagerOutcomeUnknown,
    AlertmanagerUnavailable,
    SilenceNotFound,
    SilenceRequest,
)
from alertui.integrations.alertmanager import Silence as AmSilence
from alertui.locks import LockBusy, serialized
from alertui.matchers import Matcher
from alertui.silences.models import Silence
from alertui.silences.validation import validate_silence

log = logging.getLogger(__name__)
Action = AuditEvent.Action


class SilenceActionError(Exception):
    """The change did not happen (or its outcome is unknown); `message` says why, for the user.

    `reason` lets the API pick a status code: one of REASONS."""

    REASONS = ("refused", "conflict", "not_found", "unavailable", "unknown_outcome", "busy")

    def __init__(self, message: str, reason: str = "refused"):
        super().__init__(message)
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class Actor:
    user: object  # the authenticated user
    source: str = AuditEvent.Source.BROWSER
    remote_addr: str | None = None
    request_id: str = ""
    api_token: str = ""  # the API token's name and key prefix, for changes made through the API

    @property
    def name(self) -> str:
        return self.user.get_username()


@dataclass(frozen=True)
class SilenceValues:
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    comment: str


def alertmanager_client() -> AlertmanagerClient:
    return clients.alertmanager_client()


def snapshot(silence) -> dict:
    """The audit's before/after form of a silence (mirror row or Alertmanager's)."""
    matchers = silence.matcher_list if isinstance(silence, Silence) else silence.matchers
    return {
        "matchers": [str(m) for m in matchers],
        "startsAt": silence.starts_at.isoformat(),
        "endsAt": silence.ends_at.isoformat(),
        "createdBy": silence.created_by,
        "comment": silence.comment,
    }


def mirror(am: AmSilence, **extra) -> Silence:
    """Insert or update the local copy of a silence from what Alertmanager returned."""
    row = Silence.objects.filter(pk=am.id).first() or Silence(id=am.id)
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


# -- the operations ------------------------------------------------------------------------


def create_silence(actor: Actor, values: SilenceValues, *, recreated_from: str = "") -> Silence:
    validate_silence(list(values.matchers), values.starts_at, values.ends_at, values.comment)
    action = Action.RECREATED if recreated_from else Action.CREATED
    request = SilenceRequest(
        values.matchers, values.starts_at, values.ends_at, actor.name, values.comment.strip()
    )
    client = alertmanager_client()
    intent = _intent(actor, action, values, silence_id="", before=None)
    new_id = _send(intent, lambda: client.post_silence(request))
    created = _read_back(client, new_id, request)
    return _complete(intent, created, previous_id=recreated_from)


def edit_silence(
    actor: Actor,
    silence_id: str,
    values: SilenceValues,
    *,
    based_on: datetime | None = None,
) -> Silence:
    """Change a silence. Alertmanager may answer with a new id (matchers or an active
    silence's start changed); the audit row then links the old and new ids."""
    with _one_at_a_time(silence_id):
        return _edit(actor, silence_id, values, based_on=based_on, action=Action.EDITED)


def _edit(actor, silence_id, values, *, based_on, action) -> Silence:
    validate_silence(list(values.matchers), values.starts_at, values.ends_at, values.comment)
    client = alertmanager_client()
    current = _current(client, actor, action, silence_id, based_on)
    starts_at = values.starts_at
    if current.state == "active" and starts_at.replace(microsecond=0) == current.starts_at.replace(
        microsecond=0
    ):
        # Send the server's own start back unchanged, or Alertmanager would replace the silence.
        starts_at = current.starts_at
    request = SilenceRequest(
        values.matchers,
        starts_at,
        values.ends_at,
        current.created_by or actor.name,
        values.comment.strip(),
        id=silence_id,
    )
    intent = _intent(actor, action, values, silence_id=silence_id, before=snapshot(current))
    try:
        new_id = _send(intent, lambda: client.post_silence(request))
    except SilenceActionError as e:
        _note_lost_original(client, silence_id, e)
        raise
    if new_id != silence_id:
        # Alertmanager expired the old silence and made a new one: mirror both, link them.
        try:
            mirror(client.get_silence(silence_id), replaced_by=new_id)
        except AlertmanagerError:
            log.warning("could not read back replaced silence %s", silence_id)
    changed = _read_back(client, new_id, request)
    return _complete(
        intent,
        changed,
        previous_id=silence_id if new_id != silence_id else "",
        action=Action.REPLACED if new_id != silence_id else action,
    )


def extend_silence(
    actor: Actor, silence_id: str, ends_at: datetime, based_on: datetime | None = None
) -> Silence:
    with _one_at_a_time(silence_id):
        client = alertmanager_client()
        current = _current(client, actor, Action.EXTENDED, silence_id, based_on)
        if ends_at <= current.ends_at:
            raise ValidationError({"ends_at": "The new end must be later than the current end."})
        values = SilenceValues(current.matchers, current.starts_at, ends_at, current.comment)
        return _edit(actor, silence_id, values, based_on=based_on, action=Action.EXTENDED)


def expire_silence(actor: Actor, silence_id: str) -> Silence:
    with _one_at_a_time(silence_id):
        return _expire(actor, silence_id)


@contextmanager
def _one_at_a_time(silence_id: str):
    try:
        with serialized(f"silence:{silence_id}"):
            yield
    except LockBusy:
        raise SilenceActionError(
            "Someone else is changing this silence right now; try again in a moment.", "busy"
        ) from None


def _expire(actor: Actor, silence_id: str) -> Silence:
    client = alertmanager_client()
    current = _current(client, actor, Action.EXPIRED, silence_id, None)
    if current.state == "expired":
        mirror(current)
        message = f"This silence had already expired at {current.ends_at:%Y-%m-%d %H:%M:%S} UTC."
        _record_failure(actor, Action.EXPIRED, silence_id, message, current=current)
        raise SilenceActionError(message, "conflict")
    values = SilenceValues(current.matchers, current.starts_at, current.ends_at, current.comment)
    intent = _intent(actor, Action.EXPIRED, values, silence_id=silence_id, before=snapshot(current))
    _send(intent, lambda: client.expire_silence(silence_id))
    expired = _read_back(client, silence_id, None) or current
    return _complete(intent, expired)


def _note_lost_original(client: AlertmanagerClient, silence_id: str, error: SilenceActionError):
    """Alertmanager 0.25-0.27 expire the original when a replacing edit fails: say so."""
    try:
        original = client.get_silence(silence_id)
    except AlertmanagerError:
        return
    mirror(original)
    if original.state == "expired":
        error.message += (
            " Alertmanager expired the original silence while refusing the change (a bug in "
            "Alertmanager before 0.28); recreate it from the silence list."
        )


# -- the common path ----------------------------------------------------------------------


def _current(
    client: AlertmanagerClient, actor: Actor, action: str, silence_id: str, based_on
) -> AmSilence:
    """Alertmanager's version of the silence, refusing if it changed since the user loaded it.

    Every refusal is a failed attempt in the audit."""
    try:
        current = client.get_silence(silence_id)
    except SilenceNotFound:
        message = "Alertmanager has no such silence (it may have been purged)."
        _record_failure(actor, action, silence_id, message)
        raise SilenceActionError(message, "not_found") from None
    except AlertmanagerError as e:
        _record_failure(actor, action, silence_id, e.message)
        reason = "unavailable" if isinstance(e, AlertmanagerUnavailable) else "refused"
        raise SilenceActionError(f"Alertmanager: {e.message}", reason) from e
    if based_on and current.updated_at and current.updated_at > based_on:
        mirror(current)
        message = (
            "Someone changed this silence after you opened it; review the current version "
            "and try again."
        )
        _record_failure(actor, action, silence_id, message, current=current)
        raise SilenceActionError(message, "conflict")
    if current.state == "expired" and action != Action.EXPIRED:
        mirror(current)
        message = "This silence has already expired, so it cannot be changed; recreate it instead."
        _record_failure(actor, action, silence_id, message, current=current)
        raise SilenceActionError(message, "conflict")
    return current


def _intent(actor: Actor, action: str, values: SilenceValues, *, silence_id: str, before):
    from alertui.matchers import format_matchers

    return PendingChange.objects.create(
        action=action,
        source=actor.source,
        actor=actor.user,
        actor_name=actor.name,
        silence_id=silence_id,
        matchers=[[m.name, m.op, m.value] for m in values.matchers],
        matchers_text=format_matchers(values.matchers),
        starts_at=values.starts_at,
        ends_at=values.ends_at,
        comment=values.comment,
        before=before,
        remote_addr=actor.remote_addr,
        request_id=actor.request_id,
        api_token=actor.api_token,
    )


def _send(intent: PendingChange, call):
    try:
        return call()
    except AlertmanagerOutcomeUnknown as e:
        # Leave the intent: the sync job will find out whether the change happened and record
        # it either way.
        raise SilenceActionError(
            f"Alertmanager gave no clear answer ({e.message}). alertui will record the "
            "outcome at its next sync; check the silence list before trying again.",
            "unknown_outcome",
        ) from e
    except AlertmanagerError as e:
        fail_intent(intent, e.message)
        if isinstance(e, AlertmanagerUnavailable):
            raise SilenceActionError(f"{e.message}. Nothing was changed.", "unavailable") from e
        raise SilenceActionError(f"Alertmanager refused: {e.message}") from e


def _read_back(client, silence_id: str, request: SilenceRequest | None) -> AmSilence | None:
    try:
        return client.get_silence(silence_id)
    except AlertmanagerError:
        log.warning("could not read back silence %s", silence_id)
        if request is None:
            return None
        return AmSilence(
            id=silence_id,
            matchers=request.matchers,
            starts_at=request.starts_at,
            ends_at=request.ends_at,
            created_by=request.created_by,
            comment=request.comment,
            updated_at=None,
            state="",
        )


def _complete(intent: PendingChange, am: AmSilence, *, previous_id="", action="") -> Silence:
    with transaction.atomic():
        claimed, _ = PendingChange.objects.filter(pk=intent.pk).delete()
        row = mirror(am)
        if claimed:
            AuditEvent.objects.create(
                **_event_fields(intent),
                action=action or intent.action,
                silence_id=am.id,
                previous_silence_id=previous_id,
                matchers=[[m.name, m.op, m.value] for m in am.matchers],
                matchers_text=row.matchers_text,
                starts_at=am.starts_at,
                ends_at=am.ends_at,
                comment=am.comment,
                after=snapshot(am),
            )
    return row


def _event_fields(intent: PendingChange) -> dict:
    return {
        "source": intent.source,
        "actor": intent.actor,
        "actor_name": intent.actor_name,
        "before": intent.before,
        "remote_addr": intent.remote_addr,
        "request_id": intent.request_id,
        "api_token": intent.api_token,
    }


def fail_intent(intent: PendingChange, error: str, note: str = "") -> None:
    with transaction.atomic():
        claimed, _ = PendingChange.objects.filter(pk=intent.pk).delete()
        if claimed:
            AuditEvent.objects.create(
                **_event_fields(intent),
                action=intent.action,
                outcome=AuditEvent.Outcome.FAILED,
                error=error,
                note=note,
                silence_id=intent.silence_id,
                matchers=intent.matchers,
                matchers_text=intent.matchers_text,
                starts_at=intent.starts_at,
                ends_at=intent.ends_at,
                comment=intent.comment,
            )


def _record_failure(actor: Actor, action: str, silence_id: str, error: str, current=None) -> None:
    values = (
        SilenceValues(current.matchers, current.starts_at, current.ends_at, current.comment)
        if current
        else SilenceValues((), None, None, "")
    )
    intent = _intent(
        actor, action, values, silence_id=silence_id, before=snapshot(current) if current else None
    )
    fail_intent(intent, error)
