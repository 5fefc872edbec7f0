"""Mirror Alertmanager's silences and record what changed outside alertui.

Idempotent: each silence is compared with its mirror row inside a transaction that locks the row,
and the mirror is updated in the same transaction as the audit rows, so a second run (or an
overlapping one that slipped past the Redis lock) finds nothing new to record.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from alertui.alerts import sources
from alertui.audit.models import AuditEvent, PendingChange
from alertui.integrations.alertmanager import AlertmanagerClient, AlertmanagerError
from alertui.integrations.alertmanager import Silence as AmSilence
from alertui.locks import exclusive
from alertui.silences.models import Silence
from alertui.silences.services import alertmanager_client, fail_intent, mirror, snapshot

log = logging.getLogger(__name__)
Action = AuditEvent.Action

# An intent younger than this may still be finishing in a web process; the sync leaves the
# silences it could explain alone until then. Longer than any Alertmanager call can take.
INTENT_GRACE = timedelta(seconds=90)


@dataclass
class SyncResult:
    skipped: bool = False
    seen: int = 0
    recorded: list[str] = field(default_factory=list)  # "action silence_id"
    deferred: int = 0
    error: str = ""


def sync_silences(client: AlertmanagerClient | None = None) -> SyncResult:
    with exclusive("sync_silences") as acquired:
        if not acquired:
            return SyncResult(skipped=True)
        return _sync(client or alertmanager_client())


def _sync(client: AlertmanagerClient) -> SyncResult:
    result = SyncResult()
    run = sources.Run(sources.ALERTMANAGER_SILENCES)
    try:
        silences = client.list_silences()
    except AlertmanagerError as e:
        run.failure(e.message)
        result.error = e.message
        return result
    now = timezone.now()
    intents = list(PendingChange.objects.order_by("created_at"))
    claimed: set[int] = set()
    mirrors = Silence.objects.in_bulk([am.id for am in silences])
    known_ids = set(mirrors)
    for am in silences:
        result.seen += 1
        row = mirrors.get(am.id)
        if row is not None and _unchanged(row, am, now):
            continue  # the steady case: nothing to lock, record or write
        intent = _explaining_intent(am, intents, claimed, known_ids)
        if intent is not None and now - intent.created_at < INTENT_GRACE:
            result.deferred += 1  # the request making this change is still finishing
            continue
        try:
            recorded = _sync_one(am, intent)
        except IntegrityError:
            continue  # another run inserted the mirror row first; it recorded the event
        except DatabaseError as e:
            # One silence the database cannot hold must not stop the others from syncing.
            log.exception("cannot mirror silence %s", am.id)
            result.error = f"silence {am.id}: {e}"[:500]
            continue
        if recorded and intent is not None:
            claimed.add(intent.pk)
        result.recorded += [f"{action} {am.id}" for action in recorded]
    seen_ids = {am.id for am in silences}
    Silence.objects.filter(in_alertmanager=True).exclude(id__in=seen_ids).update(
        in_alertmanager=False
    )
    _close_stale_intents(now, claimed)
    if result.error:
        run.failure(result.error)
    else:
        run.success(changed=bool(result.recorded))
    return result


def _explaining_intent(am: AmSilence, intents, claimed, known_ids) -> PendingChange | None:
    """An unfinished change from alertui that could be what we see on this silence: a change
    to this very silence, or, for a silence we have never seen, a create, recreate or replacing
    edit with the same matchers."""
    text = _text(am)
    for intent in intents:
        if intent.pk in claimed:
            continue
        if intent.silence_id == am.id:
            return intent
        if am.id not in known_ids and intent.action != Action.EXPIRED:
            if intent.matchers_text == text:
                return intent
    return None


def _sync_one(am: AmSilence, intent: PendingChange | None) -> list[str]:
    now = timezone.now()
    with transaction.atomic():
        row = Silence.objects.select_for_update().filter(pk=am.id).first()
        events = _observed(row, am, now)
        if not events:
            if row is not None and _mirror_differs(row, am):
                mirror(am)
            elif row is not None and not row.in_alertmanager:
                Silence.objects.filter(pk=row.pk).update(in_alertmanager=True, last_seen_at=now)
            return []
        before = snapshot(row) if row is not None else None
        if row is None:
            # A concurrent run would fail this insert with IntegrityError and roll back.
            Silence.objects.create(
                id=am.id, starts_at=am.starts_at, ends_at=am.ends_at, first_seen_at=now
            )
        mirror(am)
        if intent is not None:
            claimed, _ = PendingChange.objects.filter(pk=intent.pk).delete()
            if not claimed:
                intent = None
        for action, at in events:
            AuditEvent.objects.create(**_event(action, at, am, before, intent))
    return [action for action, _ in events]


def _observed(row: Silence | None, am: AmSilence, now) -> list[tuple[str, object]]:
    """What happened to the silence since the mirror last saw it, as (action, when) pairs."""
    expired = am.state == "expired" or am.ends_at <= now
    if row is None:
        events = [(Action.CREATED, min(am.updated_at or now, now))]
        if expired:
            events.append((Action.ENDED, am.ends_at))
        return events
    content_changed = (
        row.matchers_text != _text(am)
        or row.comment != am.comment
        or row.created_by != am.created_by
        or row.starts_at != am.starts_at
    )
    if row.ends_at != am.ends_at or content_changed:
        if expired and am.ends_at < row.ends_at and not content_changed:
            return [(Action.EXPIRED, am.ends_at)]
        if not content_changed and am.ends_at > row.ends_at:
            return [(Action.EXTENDED, am.updated_at or now)]
        return [(Action.EDITED, am.updated_at or now)]
    if expired and row.state != "expired":
        return [(Action.ENDED, am.ends_at)]
    return []


def _event(action, at, am: AmSilence, before, intent: PendingChange | None) -> dict:
    fields = {
        "at": at if intent is None else intent.created_at,
        "action": action,
        "silence_id": am.id,
        "matchers": [[m.name, m.op, m.value] for m in am.matchers],
        "matchers_text": _text(am),
        "starts_at": am.starts_at,
        "ends_at": am.ends_at,
        "comment": am.comment,
        "before": before,
        "after": snapshot(am),
    }
    if intent is not None:
        # The request that made this change died before recording it; its intent says who.
        fields.update(
            action=_attributed_action(action, intent, am),
            source=intent.source,
            actor=intent.actor,
            actor_name=intent.actor_name,
            remote_addr=intent.remote_addr,
            request_id=intent.request_id,
            api_token=intent.api_token,
            previous_silence_id=intent.silence_id if intent.silence_id != am.id else "",
            note="Recorded by the sync job: the request that made this change was interrupted.",
        )
        return fields
    fields["source"] = AuditEvent.Source.SYNC
    if action == Action.CREATED:
        fields["actor_name"] = am.created_by[:255]  # in full in `after`
        fields["note"] = "Created outside alertui (createdBy is Alertmanager's free text)."
    elif action == Action.ENDED:
        fields["note"] = "Reached its end time."
    else:
        fields["note"] = "Changed outside alertui; Alertmanager does not record by whom."
    return fields


def _attributed_action(observed: str, intent: PendingChange, am: AmSilence) -> str:
    if observed == Action.ENDED:
        return observed
    if intent.silence_id and intent.silence_id != am.id:
        return Action.REPLACED
    return intent.action


def _close_stale_intents(now, claimed: set[int]) -> None:
    stale = PendingChange.objects.filter(created_at__lt=now - INTENT_GRACE).exclude(pk__in=claimed)
    for intent in stale:
        fail_intent(
            intent,
            "Interrupted before completion; no matching change was found in Alertmanager.",
            note="Recorded by the sync job.",
        )


def _text(am: AmSilence) -> str:
    from alertui.matchers import format_matchers

    return format_matchers(am.matchers)


def _unchanged(row: Silence, am: AmSilence, now) -> bool:
    """Nothing to record and nothing to write (checked again under the row lock otherwise)."""
    return row.in_alertmanager and not _mirror_differs(row, am) and not _observed(row, am, now)


def _mirror_differs(row: Silence, am: AmSilence) -> bool:
    return row.state != am.state or row.updated_at != am.updated_at
