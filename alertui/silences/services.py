"""Silence changes made through alertui (browser and API): validated, sent to Alertmanager,
and recorded by the one writer of silence state (silences.recorder).

Every change follows the same path: validate, write a PendingChange intent holding exactly what
is sent, call Alertmanager, then record the outcome (audit row and mirror in one transaction).
If the process dies after Alertmanager applied the change, the intent survives and the sync job
records the change from it when what Alertmanager holds agrees with it.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from alertui import clients, clusters
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
from alertui.locks import LockBusy, change_lock_timeout, serialized
from alertui.matchers import Matcher
from alertui.policy.enforce import check_policy
from alertui.scopes.guard import check as check_scope
from alertui.silences import recorder
from alertui.silences.models import Silence
from alertui.silences.recorder import Actor, mirror, snapshot
from alertui.silences.validation import validate_silence

log = logging.getLogger(__name__)
Action = AuditEvent.Action

__all__ = ["Actor", "SilenceActionError", "SilenceValues", "mirror", "snapshot"]


class SilenceActionError(Exception):
    """The change did not happen (or its outcome is unknown); `message` says why, for the user.

    `reason` lets the API pick a status code: one of REASONS."""

    REASONS = (
        "refused",
        "conflict",
        "not_found",
        "unavailable",
        "unknown_outcome",
        "busy",
        "policy",  # refused by the silence policy (alertui.policy)
    )

    def __init__(self, message: str, reason: str = "refused"):
        super().__init__(message)
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class SilenceValues:
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    comment: str
    # Sent with a new silence (kept by Alertmanager 0.32+); an edit keeps the silence's own.
    annotations: tuple[tuple[str, str], ...] = ()


def alertmanager_client(cluster: str) -> AlertmanagerClient:
    return clients.alertmanager_client(cluster=cluster)


def cluster_of(silence_id: str) -> str:
    """The cluster a silence is in, as its mirror row says (the first cluster for one not
    mirrored yet)."""
    found = Silence.objects.filter(pk=silence_id).values_list("cluster", flat=True).first()
    return found or clusters.configured()[0].name


# -- the operations ------------------------------------------------------------------------


def create_silence(
    actor: Actor,
    values: SilenceValues,
    *,
    recreated_from: str = "",
    note: str = "",
    cluster: str | None = None,
    action_id: str = "",
) -> Silence:
    """A new silence in `cluster` (the first one when not given); `recreated_from` names the
    expired silence it was made from; `note` goes to its audit row; `action_id` links it with
    its siblings made in other clusters by the same action."""
    cluster = clusters.get(cluster).name if cluster else clusters.configured()[0].name
    validate_silence(list(values.matchers), values.starts_at, values.ends_at, values.comment)
    action = Action.RECREATED if recreated_from else Action.CREATED
    if recreated_from:
        _check_recreated_from(recreated_from)
    check_policy(actor, action, cluster, values)
    request = SilenceRequest(
        *(values.matchers, values.starts_at, values.ends_at, actor.name, values.comment.strip()),
        annotations=values.annotations,
    )
    check_scope(actor, action, cluster, wanted=request)
    client = alertmanager_client(cluster)
    intent = recorder.begin(
        actor, action, request, silence_id="", before=None, cluster=cluster, action_id=action_id
    )
    new_id = _send(intent, lambda: client.post_silence(request))
    created = _read_back(client, new_id, request)
    return recorder.complete(intent, created, previous_id=recreated_from, note=note)


def _check_recreated_from(silence_id: str) -> None:
    """A recreated silence joins the history of the one it was made from: only an expired one
    (an active silence's history is not anyone's to extend)."""
    source = Silence.objects.filter(pk=silence_id).first()
    if source is None or source.current_state != "expired":
        raise ValidationError(
            {"recreated_from": "Only an expired silence can be recreated; start a new one."}
        )


def edit_silence(
    actor: Actor,
    silence_id: str,
    values: SilenceValues,
    *,
    based_on: datetime | None = None,
    given: frozenset[str] | None = None,
) -> Silence:
    """Change a silence. Alertmanager may answer with a new id (matchers or an active
    silence's start changed); the audit row then links the old and new ids.

    `given` names the fields of `values` the person gave (the API's "send only what
    changes"); each other one keeps the value Alertmanager holds now (None: all given)."""
    cluster = cluster_of(silence_id)
    with _one_at_a_time(silence_id, cluster):
        return _edit(
            actor,
            silence_id,
            values,
            based_on=based_on,
            action=Action.EDITED,
            given=given,
            cluster=cluster,
        )


def _edit(actor, silence_id, values, *, based_on, action, cluster, given=None, note="") -> Silence:
    validate_silence(list(values.matchers), values.starts_at, values.ends_at, values.comment)
    client = alertmanager_client(cluster)
    current = _current(client, actor, action, silence_id, based_on, cluster)
    if why := current.annotations_refusal:  # sent back, part of them would erase the rest
        recorder.refuse(actor, action, silence_id, why, current=current, cluster=cluster)
        raise SilenceActionError(why, "refused")
    if given is not None:
        # Not the mirror's values, which lag a change made elsewhere until the next sync.
        values = _keep_current(values, current, given)
        validate_silence(list(values.matchers), values.starts_at, values.ends_at, values.comment)
    # Judged by the start it sends: reading the clock twice could judge a future start and
    # then send the old one, stretching an active silence past a maximum duration.
    start = _start_to_send(current, values.starts_at)
    check_policy(actor, action, cluster, replace(values, starts_at=start), current=current)
    request = SilenceRequest(
        values.matchers,
        start,
        values.ends_at,
        current.created_by or actor.name,
        values.comment.strip(),
        id=silence_id,
        # Not ours to drop: an edit that left them out would erase them on 0.32+.
        annotations=current.annotations,
    )
    check_scope(actor, action, cluster, silence_id=silence_id, current=current, wanted=request)
    intent = recorder.begin(
        actor, action, request, silence_id=silence_id, before=snapshot(current), cluster=cluster
    )
    try:
        new_id = _send(intent, lambda: client.post_silence(request))
    except SilenceActionError as e:
        _note_lost_original(client, silence_id, e, cluster)
        raise
    if new_id != silence_id:
        # Alertmanager expired the old silence and made a new one: mirror both, link them.
        try:
            replaced = client.get_silence(silence_id)
        except AlertmanagerError:
            log.warning("could not read back replaced silence %s", silence_id)
            replaced = _as_expired(current)
        mirror(replaced, cluster, replaced_by=new_id)
    changed = _read_back(client, new_id, request)
    replaced = new_id != silence_id
    return recorder.complete(
        intent,
        changed,
        previous_id=silence_id if replaced else "",
        action=Action.REPLACED if replaced else action,
        note=note,
    )


def _keep_current(values: SilenceValues, current: AmSilence, given: frozenset[str]):
    return SilenceValues(
        values.matchers if "matchers" in given else current.matchers,
        values.starts_at if "starts_at" in given else current.starts_at,
        values.ends_at if given & {"ends_at", "duration"} else current.ends_at,
        values.comment if "comment" in given else current.comment,
    )


def _start_to_send(current: AmSilence, requested: datetime) -> datetime:
    """The start an edit sends: the server's own, unchanged, unless the edit really moves it.

    Alertmanager replaces an active silence whose start changes (to the second), and the start
    of an active silence can only move forward: any requested start that is not in the future
    means "leave it". Comparing the two to the second instead would replace the silence whenever
    the clock crossed a second between reading it and sending the edit."""
    if current.state == "active" and requested <= timezone.now():
        return current.starts_at
    return requested


def extend_silence(
    actor: Actor, silence_id: str, ends_at: datetime, based_on=None, *, note: str = ""
) -> Silence:
    """Move the silence's end to `ends_at`; `note` goes to its audit row."""
    cluster = cluster_of(silence_id)
    with _one_at_a_time(silence_id, cluster):
        client = alertmanager_client(cluster)
        current = _current(client, actor, Action.EXTENDED, silence_id, based_on, cluster)
        if ends_at <= current.ends_at:
            raise ValidationError({"ends_at": "The new end must be later than the current end."})
        values = SilenceValues(current.matchers, current.starts_at, ends_at, current.comment)
        return _edit(
            actor,
            silence_id,
            values,
            based_on=based_on,
            action=Action.EXTENDED,
            cluster=cluster,
            note=note,
        )


def expire_silence(actor: Actor, silence_id: str) -> Silence:
    cluster = cluster_of(silence_id)
    with _one_at_a_time(silence_id, cluster):
        return _expire(actor, silence_id, cluster)


@contextmanager
def _one_at_a_time(silence_id: str, cluster: str):
    try:
        with serialized(f"silence:{silence_id}", timeout=change_lock_timeout(cluster)):
            yield
    except LockBusy:
        raise SilenceActionError(
            "Someone else is changing this silence right now; try again in a moment.", "busy"
        ) from None


def _expire(actor: Actor, silence_id: str, cluster: str) -> Silence:
    client = alertmanager_client(cluster)
    current = _current(client, actor, Action.EXPIRED, silence_id, None, cluster)
    check_scope(actor, Action.EXPIRED, cluster, silence_id=silence_id, current=current)
    if current.state == "expired":
        mirror(current, cluster)
        message = f"This silence had already expired at {current.ends_at:%Y-%m-%d %H:%M:%S} UTC."
        recorder.refuse(
            actor, Action.EXPIRED, silence_id, message, current=current, cluster=cluster
        )
        raise SilenceActionError(message, "conflict")
    as_it_was = SilenceRequest(
        current.matchers, current.starts_at, current.ends_at, current.created_by, current.comment
    )
    intent = recorder.begin(
        actor,
        Action.EXPIRED,
        as_it_was,
        silence_id=silence_id,
        before=snapshot(current),
        cluster=cluster,
    )
    _send(intent, lambda: client.expire_silence(silence_id))
    expired = _read_back(client, silence_id, None) or _as_expired(current)
    return recorder.complete(intent, expired)


def _as_expired(current: AmSilence) -> AmSilence:
    """An expired silence that could not be read back: Alertmanager ended it (and a pending
    one's start) when the request arrived, about now. Without updatedAt, like every version
    not read from Alertmanager, so the sync takes its own times quietly (sync._as_sent)."""
    now = timezone.now()
    return replace(
        current,
        starts_at=min(current.starts_at, now),
        ends_at=now,
        updated_at=None,
        state="expired",
    )


def _note_lost_original(
    client: AlertmanagerClient, silence_id: str, error: SilenceActionError, cluster: str
):
    """Alertmanager 0.25-0.27 expire the original when a replacing edit fails: say so."""
    try:
        original = client.get_silence(silence_id)
    except AlertmanagerError:
        return
    mirror(original, cluster)
    if original.state == "expired":
        error.message += (
            " Alertmanager expired the original silence while refusing the change (a bug in "
            "Alertmanager before 0.28); recreate it from the silence list."
        )


# -- the common path ----------------------------------------------------------------------


def _current(
    client: AlertmanagerClient, actor: Actor, action: str, silence_id: str, based_on, cluster
) -> AmSilence:
    """Alertmanager's version of the silence, refusing if it changed since the user loaded it.

    Every refusal is a failed attempt in the audit."""
    try:
        current = client.get_silence(silence_id)
    except SilenceNotFound:
        message = "Alertmanager has no such silence (it may have been purged)."
        recorder.refuse(actor, action, silence_id, message, cluster=cluster)
        raise SilenceActionError(message, "not_found") from None
    except AlertmanagerError as e:
        recorder.refuse(actor, action, silence_id, e.message, cluster=cluster)
        reason = "unavailable" if isinstance(e, AlertmanagerUnavailable) else "refused"
        raise SilenceActionError(f"Alertmanager: {e.message}", reason) from e
    if based_on and current.updated_at and current.updated_at > based_on:
        mirror(current, cluster)
        message = (
            "Someone changed this silence after you opened it; review the current version "
            "and try again."
        )
        recorder.refuse(actor, action, silence_id, message, current=current, cluster=cluster)
        raise SilenceActionError(message, "conflict")
    if current.state == "expired" and action != Action.EXPIRED:
        mirror(current, cluster)
        message = "This silence has already expired, so it cannot be changed; recreate it instead."
        recorder.refuse(actor, action, silence_id, message, current=current, cluster=cluster)
        raise SilenceActionError(message, "conflict")
    return current


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
        recorder.fail(intent, e.message)
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
            annotations=request.annotations,
        )
