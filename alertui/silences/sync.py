"""Mirror Alertmanager's silences and record what changed outside alertui.

Idempotent: each silence is compared with its mirror row inside a transaction that locks the row,
and the mirror is updated in the same transaction as the audit rows (silences.recorder), so a
second run (or an overlapping one that slipped past the Redis lock) finds nothing new to record.
Interrupted requests are settled first (silences.intents): a change is credited to the person
whose intent it was only when what Alertmanager holds agrees with that intent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone

from alertui.audit.models import AuditEvent, PendingChange
from alertui.clients import alertmanager_client
from alertui.clusters import Cluster
from alertui.integrations.alertmanager import (
    AlertmanagerClient,
    AlertmanagerError,
    AlertmanagerUnavailable,
    SilenceList,
    SilencesAnswer,
)
from alertui.integrations.alertmanager import Silence as AmSilence
from alertui.integrations.alertmanager_answers import digest
from alertui.matchers import format_matchers
from alertui.silences import intents, recorder
from alertui.silences.models import Silence
from alertui.silences.recorder import Observed
from alertui.sync import health
from alertui.sync.runs import cluster_sync

log = logging.getLogger(__name__)
Action = AuditEvent.Action


@dataclass
class SyncResult:
    skipped: bool = False
    seen: int = 0
    recorded: list[str] = field(default_factory=list)  # "action silence_id"
    deferred: int = 0
    error: str = ""
    note: str = ""  # what could not be read

    def summary(self) -> str:
        later = f", {self.deferred} left for the next run" if self.deferred else ""
        lines = "".join(f"\n  {line}" for line in self.recorded)
        return f"{self.seen} seen, {len(self.recorded)} changes recorded{later}{lines}"

    def failures(self) -> list[str]:
        return [self.error] if self.error else []


@cluster_sync("silences", lambda: SyncResult(skipped=True))
def sync_silences(cluster: Cluster, client: AlertmanagerClient | None = None) -> SyncResult:
    """Mirror the cluster's silences, recording what changed outside alertui."""
    client = client or alertmanager_client(cluster=cluster.name)
    result = SyncResult()
    run = health.Run(health.ALERTMANAGER_SILENCES, cluster.name)
    read_at = timezone.now()
    try:
        answers = peer_answers(client)
        # The steady case: every peer says what it said last time, the mirror is as that run
        # left it, and no change made through alertui is still being settled.
        key = _key(answers, cluster.name)
        last_note = None
        if not PendingChange.objects.filter(cluster=cluster.name).exists():
            last_note = run.same_as_last(key)
        if last_note is not None:
            result.seen = len(set().union(*(answer.ids() for answer in answers)))
            result.note = last_note
            run.success(note=last_note, key=key)
            return result
        silences = newest_silences(answers)
    except AlertmanagerError as e:
        run.failure(e.message)
        result.error = e.message
        return result
    now = timezone.now()
    mirrors = Silence.objects.filter(cluster=cluster.name).in_bulk([am.id for am in silences])
    leftover = list(PendingChange.objects.filter(cluster=cluster.name))
    plan = intents.plan(leftover, silences, set(mirrors), now, intents.recorded_changes(leftover))
    for am in silences:
        result.seen += 1
        row = mirrors.get(am.id)
        if am.id not in plan.explained and row is not None and _unchanged(row, am, now):
            continue  # the steady case: nothing to lock, record or write
        if am.id in plan.deferred:
            result.deferred += 1  # the request making this change may still be finishing
            continue
        try:
            recorded = _sync_one(cluster.name, am, plan)
        except IntegrityError:
            continue  # another run inserted the mirror row first; it recorded the event
        except DatabaseError as e:
            # One silence the database cannot hold must not stop the others from syncing.
            log.exception("cannot mirror silence %s", am.id)
            result.error = f"silence {am.id}: {e}"[:500]
            continue
        result.recorded += [f"{action} {am.id}" for action in recorded]
    # A silence that could not be read still exists: its mirror stays as it was.
    recorder.mark_forgotten_except(
        cluster.name, {am.id for am in silences} | silences.unreadable_ids, read_at=read_at
    )
    for closure in plan.closures:
        recorder.fail(
            closure.intent, closure.error, note="Recorded by the sync job.", outcome=closure.outcome
        )
    result.note = _note(silences.unreadable)
    if result.error:
        run.failure(result.error)
    else:
        settled = not result.deferred and not plan.closures and not plan.credits
        key = _key(answers, cluster.name) if settled else ""
        run.success(changed=bool(result.recorded), note=result.note, key=key)
    return result


def _key(answers: list[SilencesAnswer], cluster: str) -> str:
    """The peers' answers (which peers answered, and what) and the cluster's mirror rows as of
    now: every write of a mirror row moves their count or their newest last_seen_at."""
    said = digest(" ".join(f"{a.peer} {a.digest}" for a in answers).encode())
    mirror = Silence.objects.filter(cluster=cluster, in_alertmanager=True).aggregate(
        rows=Count("pk"), newest=Max("last_seen_at")
    )
    newest = mirror["newest"].isoformat() if mirror["newest"] else "-"
    return f"{said} {mirror['rows']} {newest}"


def peer_answers(client: AlertmanagerClient) -> list[SilencesAnswer]:
    """The silences answer of every peer that answers; AlertmanagerError when none does (one
    peer down is not an outage: the others are read)."""
    answers: list[SilencesAnswer] = []
    errors: list[AlertmanagerError] = []
    for url in client.urls:
        try:
            answers.append(client.silences_answer(peer=url))
        except AlertmanagerError as e:
            errors.append(e)
    if answers:
        return answers
    if len(errors) == 1:
        raise errors[0]
    raise AlertmanagerUnavailable("; ".join(e.message for e in errors))


def newest_silences(answers: list[SilencesAnswer]) -> SilenceList:
    """The silences of every peer's answer, each at its newest version.

    A peer may not have heard of a change another peer took (gossip lags, or a partition cuts
    the peers off from each other) and shows the silence as it was before: read alone, that
    would be recorded as a change back, and the real change again once the peers agree.
    Alertmanager itself keeps, of two versions of a silence, the one updated last; so does
    this."""
    newest: dict[str, AmSilence] = {}
    merged = SilenceList()
    for listed in (answer.read() for answer in answers):
        for silence in listed:
            kept = newest.get(silence.id)
            if kept is None or _updated_later(silence, kept):
                newest[silence.id] = silence
        merged.unreadable += [u for u in listed.unreadable if u not in merged.unreadable]
        merged.unreadable_ids |= listed.unreadable_ids
    merged.extend(newest.values())
    return merged


def _updated_later(silence: AmSilence, than: AmSilence) -> bool:
    if silence.updated_at is None:
        return False
    return than.updated_at is None or silence.updated_at > than.updated_at


def _note(unreadable: list[str]) -> str:
    """What the silences page says about silences this sync could not read: a silence that
    mutes alerts must never go missing without a word."""
    if not unreadable:
        return ""
    one = len(unreadable) == 1
    return (
        f"{len(unreadable)} silence{'' if one else 's'} from Alertmanager could not be read "
        f"and {'is' if one else 'are'} not shown: {'; '.join(unreadable[:5])}."
    )


def _sync_one(cluster: str, am: AmSilence, plan: intents.Plan) -> list[str]:
    credit = plan.credits.get(am.id)
    now = timezone.now()
    with transaction.atomic():
        row = Silence.objects.select_for_update().filter(pk=am.id, cluster=cluster).first()
        if credit is not None:
            recorder.complete(
                credit.intent,
                am,
                action=credit.action,
                previous_id=credit.previous_id,
                note=intents.INTERRUPTED,
                at=credit.intent.created_at,
            )
            if credit.replaced is not None:
                recorder.mirror(credit.replaced, cluster, replaced_by=am.id)
            return [credit.action]
        if am.id in plan.explained:
            return []  # the old half of a replacement: mirrored with its new half's credit
        observed = _observed(row, am, now)
        if observed:
            recorder.observe(cluster, am, row, observed)
        elif row is not None and _mirror_differs(row, am):
            recorder.mirror(am, cluster)
        elif row is not None and not row.in_alertmanager:
            recorder.mark_held([row.pk])
    return [change.action for change in observed]


def _observed(row: Silence | None, am: AmSilence, now) -> list[Observed]:
    """What happened to the silence since the mirror last saw it."""
    expired = am.state == "expired" or am.ends_at <= now
    changed_at = am.updated_at or now
    if row is None:
        events = [
            Observed(
                Action.CREATED,
                min(changed_at, now),
                "Created outside alertui (createdBy is Alertmanager's free text).",
            )
        ]
        if expired:
            events.append(Observed(Action.ENDED, am.ends_at, "Reached its end time."))
        return events
    # Alertmanager ends a pending silence early by moving its start to its end as well.
    ended_pending = am.starts_at == am.ends_at < row.starts_at
    content_changed = (
        row.matchers_text != format_matchers(am.matchers)
        or row.comment != am.comment
        or row.created_by != am.created_by
        or (row.starts_at != am.starts_at and not ended_pending)
    )
    outside = "Changed outside alertui; Alertmanager does not record by whom."
    if (row.ends_at != am.ends_at or content_changed) and not _as_sent(row, am):
        if expired and am.ends_at < row.ends_at and not content_changed:
            return [Observed(Action.EXPIRED, am.ends_at, outside)]
        if not content_changed and am.ends_at > row.ends_at:
            return [Observed(Action.EXTENDED, changed_at, outside)]
        return [Observed(Action.EDITED, changed_at, outside)]
    if expired and row.state != "expired":
        return [Observed(Action.ENDED, am.ends_at, "Reached its end time.")]
    return []


def _as_sent(row: Silence, am: AmSilence) -> bool:
    """The mirror row holds what alertui sent, not what Alertmanager answered (it has no
    updatedAt: the change could not be read back, see services._read_back), and Alertmanager's
    copy differs from it only in times the server sets itself: a start or an end put at the
    moment the request arrived, times kept to the millisecond. Its audit row is written; this
    first sight of the silence records nothing again."""
    window = intents.grace() + intents.CLOCK_SKEW
    return (
        row.updated_at is None
        and row.matchers_text == format_matchers(am.matchers)
        and row.comment == am.comment
        and row.created_by == am.created_by
        and abs(am.starts_at - row.starts_at) <= window
        and abs(am.ends_at - row.ends_at) <= window
    )


def _unchanged(row: Silence, am: AmSilence, now) -> bool:
    """Nothing to record and nothing to write (checked again under the row lock otherwise)."""
    return row.in_alertmanager and not _mirror_differs(row, am) and not _observed(row, am, now)


def _mirror_differs(row: Silence, am: AmSilence) -> bool:
    return row.state != am.state or row.updated_at != am.updated_at
