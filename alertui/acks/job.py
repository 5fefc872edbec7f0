"""The acknowledgements job: run per cluster (alertui.sync.registry lists it with the syncs; the
beat task and `manage.py sync --kind acknowledgements` call tend_acknowledgements).

For each acknowledgement of the cluster still going:
- one of the alerts its silence matches still fires in that cluster (Alertmanager still holds
  it, silenced or not): when the silence ends within 5 minutes (or half its step), its
  end moves to now + the step chosen, never past its maximum (ACK_MAX_DURATION after it was
  made); the last such extension carries a note, which the notices announce;
- none fires: it ends once they have been resolved for ACK_GRACE (expired, credited to "the
  acknowledgement of <person>"); an alert firing again within the grace keeps it (a silence
  that would end within the grace is extended as above, so the alert finds it still there);
- its silence ended or is gone (expired by someone, or its maximum reached): it is marked ended.
An extension the silence policy or the person's scope refuses makes the silence's current end
its maximum: the refusal is recorded once (a failed audit row), not at every run.

Exactly once per cluster whatever runs: the sync lock of the cluster keeps two runs apart, and
each change is claimed on the acknowledgement's row first (compare-and-swap of its revision),
then sent as a change of the silence as read (services refuse it if the silence changed since),
so a run that outlived its lock cannot extend twice either.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone

from alertui import clients
from alertui.accounts.roles import can_silence
from alertui.acks import services
from alertui.acks.models import Acknowledgement
from alertui.durations import format_duration
from alertui.integrations.alertmanager import AlertmanagerError, SilenceNotFound
from alertui.matchers import matches_all
from alertui.silences import services as silence_services
from alertui.sync.runs import cluster_sync

log = logging.getLogger(__name__)
Ending = Acknowledgement.Ending
# Acknowledgements looked at per run and cluster, oldest first; the next run takes the rest.
PER_RUN = 500
# How close to its end a firing acknowledgement is extended (or half its step, if shorter).
EXTEND_BEFORE = timedelta(minutes=5)
# Refusals of an extension that the next run would meet again (silences.services reasons).
STOPPED_BY = ("policy", "out_of_scope")


@dataclass
class Result:
    skipped: bool = False
    extended: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{len(self.extended)} acknowledgement(s) extended, {len(self.ended)} ended"

    def failures(self) -> list[str]:
        return self.failed


@cluster_sync("acknowledgements", lambda: Result(skipped=True))
def tend_acknowledgements(cluster) -> Result:
    return tend(cluster.name)


def tend(cluster: str) -> Result:
    """One run over the cluster's acknowledgements (without the cluster's lock: the
    compare-and-swap alone keeps each change to one run)."""
    result = Result()
    going = Acknowledgement.objects.filter(cluster=cluster, ended_at=None).select_related("person")
    # Those looked at longest ago first: beyond PER_RUN, the next runs take the rest.
    order = (F("looked_at").asc(nulls_first=True), "created_at")
    acks = list(going.order_by(*order)[:PER_RUN])
    if not acks:
        return result
    client = clients.alertmanager_client(cluster=cluster)
    try:
        # Every alert Alertmanager still holds (silenced ones too): resolved ones are not listed.
        firing = [a.labels for a in client.list_alerts()]
    except AlertmanagerError as e:
        result.failed.append(f"cannot read the alerts: {e.message}")
        return result
    for ack in acks:
        tend_one(client, ack, firing, result)
    Acknowledgement.objects.filter(pk__in=[a.pk for a in acks]).update(looked_at=timezone.now())
    return result


def tend_one(client, ack: Acknowledgement, firing: list[dict], result: Result) -> None:
    now = timezone.now()
    try:
        current = client.get_silence(ack.silence_id)
    except SilenceNotFound:
        _ended(ack, Ending.GONE, result)
        return
    except AlertmanagerError as e:
        result.failed.append(f"{ack}: {e.message}")
        return
    if current.state == "expired" or current.ends_at <= now:
        _ended(ack, Ending.REACHED_END, result)
        return
    if any(matches_all(current.matchers, labels) for labels in firing):
        if ack.resolved_at is not None:
            _claim(ack, resolved_at=None)
        _extend_if_due(ack, current, now, result)
    else:
        if ack.resolved_at is None and not _claim(ack, resolved_at=now):
            return
        if now >= ack.resolved_at + services.grace():
            _end_resolved(ack, result)
        elif current.ends_at < ack.resolved_at + services.grace():
            # An alert firing again within the grace must find its silence still there.
            _extend_if_due(ack, current, now, result)


def _extend_if_due(
    ack: Acknowledgement, current, now: datetime, result: Result, capped: bool = False
) -> None:
    """`capped`: a second try, to the end the silence policy allows."""
    before = min(EXTEND_BEFORE, ack.step / 2)
    if current.ends_at - now > before:
        return
    new_end = min(now + ack.step, ack.max_until)
    if new_end - current.ends_at < timedelta(seconds=1):
        return  # at its maximum (Alertmanager keeps milliseconds of it): it ends then
    if not can_silence(ack.person):
        # Extended in their name: someone who may no longer silence extends nothing.
        result.failed.append(f"{ack}: {ack.person_name} can no longer make silences")
        return
    if not _claim(ack):
        return
    note = ""
    if new_end >= ack.max_until:
        limit = (
            "the silence policy's maximum"
            if capped
            else (f"its maximum of {format_duration(services.max_duration())} (ACK_MAX_DURATION)")
        )
        note = (
            f"Last extension: the acknowledgement of {ack.person_name} reached {limit} and ends "
            f"at {ack.max_until:%Y-%m-%d %H:%M} UTC unless someone acknowledges or extends again."
        )
    try:
        changed = silence_services.extend_silence(
            services.actor_for(ack), ack.silence_id, new_end, current.updated_at, note=note
        )
    except (silence_services.SilenceActionError, ValidationError) as e:
        reason = getattr(e, "reason", "")
        allowed = None
        if reason == "policy" and not capped:
            allowed = _policy_allows_until(ack, current, new_end)
        if allowed is not None and allowed < new_end:
            # The policy's maximum comes first: extend to it, as the last extension, so the
            # team hears of the end before it comes.
            Acknowledgement.objects.filter(pk=ack.pk).update(max_until=allowed)
            ack.max_until = allowed
            _extend_if_due(ack, current, now, result, capped=True)
            return
        if reason in STOPPED_BY:
            # The policy (or the person's scope) allows no more: that is its maximum, and its
            # refusal is recorded once, not at every run.
            Acknowledgement.objects.filter(pk=ack.pk).update(max_until=current.ends_at)
        result.failed.append(f"{ack}: not extended: {getattr(e, 'message', e)}")
        return
    if changed.id != ack.silence_id:
        Acknowledgement.objects.filter(pk=ack.pk).update(silence_id=changed.id)
    result.extended.append(changed.id)


def _policy_allows_until(ack: Acknowledgement, current, wanted: datetime) -> datetime | None:
    """The latest end before `wanted`, a minute or more past the silence's end, that the silence
    policy lets this acknowledgement's silence reach (a maximum duration), or None."""
    from alertui.policy.engine import evaluate

    def allowed(end: datetime) -> bool:
        verdict = evaluate(
            ack.person, ack.cluster, current.matchers, current.starts_at, end, current.comment
        )
        return not verdict.refusals

    low, high = current.ends_at + timedelta(minutes=1), wanted
    if low >= high or not allowed(low):
        return None
    while high - low > timedelta(seconds=30):  # at most ~20 steps over any step length
        middle = low + (high - low) / 2
        low, high = (middle, high) if allowed(middle) else (low, middle)
    return low.replace(microsecond=0)


def _end_resolved(ack: Acknowledgement, result: Result) -> None:
    if not _claim(ack):
        return
    try:
        silence_services.expire_silence(services.actor_for(ack), ack.silence_id)
    except silence_services.SilenceActionError as e:
        if e.reason not in ("conflict", "not_found"):
            result.failed.append(f"{ack}: not ended: {e.message}")
            return
    _ended(ack, Ending.RESOLVED, result)


def _ended(ack: Acknowledgement, ending: str, result: Result) -> None:
    if services.mark_ended(ack, ending):
        result.ended.append(ack.silence_id)


def _claim(ack: Acknowledgement, **values) -> bool:
    """Compare-and-swap on the row as this run read it: of two runs, one moves it."""
    done = Acknowledgement.objects.filter(pk=ack.pk, revision=ack.revision, ended_at=None).update(
        revision=F("revision") + 1, **values
    )
    if done:
        ack.revision += 1
        for key, value in values.items():
            setattr(ack, key, value)
    return bool(done)
