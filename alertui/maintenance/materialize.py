"""The job that makes each occurrence of a window a real Alertmanager silence ahead of time.

Every occurrence that overlaps the next HORIZON becomes one pending silence per cluster, so
Alertmanager mutes on time even when alertui is down as the window opens. One silence per
(window, occurrence, cluster) whatever runs at once: a Materialization row, unique on those
three, is claimed in the database before Alertmanager is called, and a Redis lock keeps two
runs (two beat processes, a retried task) from working on one window together. A claim whose
run died, or whose Alertmanager never answered, is looked for in Alertmanager by its comment's
marker before anything is made again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from alertui.accounts.roles import can_silence
from alertui.integrations.alertmanager import AlertmanagerError
from alertui.locks import LockBusy, LockUnavailable, exclusive, serialized
from alertui.maintenance import clusters
from alertui.maintenance.models import Materialization, Window, WindowChange
from alertui.maintenance.occurrence_silence import actor_for, marker, values_for
from alertui.maintenance.schedule import Occurrence
from alertui.maintenance.windows import between
from alertui.scopes.access import refusal_for
from alertui.silences import intents, services
from alertui.silences.services import SilenceActionError

log = logging.getLogger(__name__)
State = Materialization.State
# Why a silence was expired when an edit or a move took its occurrence out of the horizon: the
# occurrence may come back (moved again, or nearer), and is made again then.
LEFT_SCHEDULE = "its occurrence left the schedule"


def horizon() -> timedelta:
    return timedelta(seconds=settings.MAINTENANCE_HORIZON)


def stale_after() -> timedelta:
    """A claim older than this belongs to a run that died or an answer that never came: longer
    than the silence services' own grace, after which the sync records what they did."""
    return intents.grace()


@dataclass
class Report:
    created: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    missed: int = 0
    busy: bool = False


def materialize(now: datetime | None = None) -> Report:
    """One run over every window (the beat task and `manage.py` call this)."""
    report = Report()
    try:
        with exclusive("maintenance-materialize") as acquired:
            if not acquired:
                report.busy = True
                return report
            _run(now, report)
    except LockUnavailable as e:
        # The claims alone keep it to one silence per occurrence: run without the lock.
        log.warning("%s; materializing maintenance windows without it", e)
        _run(now, report)
    return report


def _run(now: datetime | None, report: Report) -> None:
    for window in Window.objects.filter(deleted_at=None, paused=False).select_related("owner"):
        try:
            with serialized(f"maintenance-window:{window.pk}", wait=5):
                window.refresh_from_db()
                if window.active:
                    sync_window(window, now or timezone.now(), report)
        except LockBusy:
            log.info("window %s is being changed; the next run takes it", window.pk)


def sync_window(window: Window, now: datetime, report: Report | None = None) -> Report:
    """Make the silences of the window's occurrences within the horizon, bring those of an
    older version up to date, and record the occurrences that could not be made in time."""
    report = report or Report()
    current = {o.key: o for o in between(window, now, now + horizon())}
    _update_outdated(window, current, now)
    for occurrence in current.values():
        for cluster in window.clusters or clusters.configured_names():
            materialize_occurrence(window, occurrence, cluster, now, report)
    _record_missed(window, now, report)
    return report


# -- one occurrence in one cluster ------------------------------------------------------------


def materialize_occurrence(
    window: Window, occurrence: Occurrence, cluster: str, now: datetime, report: Report
) -> None:
    row = _claim(window, occurrence, cluster, now)
    if row is None:
        return
    # The silence would be made in their name: someone deactivated, no longer a silencer, or
    # whose scopes no longer cover it makes no more, through a window or otherwise (and fills
    # no audit with a refusal a run). Retried each run, so the window resumes once they may
    # again (or another owner takes it over).
    error = refusal_for(window.owner, window.matcher_list, [cluster])
    if not can_silence(window.owner):
        error = (
            f"{window.owner.get_username()} (the window's owner) can no longer make silences: "
            "their account is deactivated or no longer a silencer."
        )
    if error:
        _save(row, state=State.RETRY, attempts=row.attempts + 1, error=error)
        report.failed.append(f"{window.name} {occurrence.key:%Y-%m-%d %H:%M}Z {cluster}")
        return
    late = row.attempts > 0 and now > occurrence.starts_at
    note = ""
    if late:
        note = (
            f"Created late: Alertmanager could not be reached when this occurrence was due "
            f"({row.attempts} failed attempt(s); last: {row.error}). It silences the rest of the "
            "window."
        )
    try:
        silence = services.create_silence(
            actor_for(window), values_for(window, occurrence, now), note=note, cluster=cluster
        )
    except SilenceActionError as e:
        if e.reason == "unknown_outcome":
            # Left claimed: once stale, the next run looks for the silence before retrying.
            _save(row, error=e.message)
        elif e.reason == "policy":
            # Refused by the silence policy (and audited): each retry would be refused and
            # audited again, so the occurrence is missed, saying why, and the team is told.
            # A new version of the window (fixed, or edited after the rule was) tries again.
            _save(row, state=State.MISSED, error=e.message)
            _record_refused(window, row, e.message)
        else:
            _save(row, state=State.RETRY, attempts=row.attempts + 1, error=e.message)
        report.failed.append(f"{window.name} {occurrence.key:%Y-%m-%d %H:%M}Z {cluster}")
        return
    except Exception as e:
        # A refusal by our own checks (the limits changed since the window was saved).
        _save(row, state=State.RETRY, attempts=row.attempts + 1, error=str(e)[:500])
        report.failed.append(f"{window.name} {occurrence.key:%Y-%m-%d %H:%M}Z {cluster}")
        return
    _save(
        row,
        state=State.CREATED,
        silence_id=silence.id,
        starts_at=silence.starts_at,
        ends_at=silence.ends_at,
        late=late,
        error="",
    )
    report.created.append(silence.id)


def _claim(window, occurrence, cluster, now) -> Materialization | None:
    """This run's claim on the occurrence, or None when it is made or another run has it."""
    try:
        with transaction.atomic():
            return Materialization.objects.create(
                window=window,
                occurrence_start=occurrence.key,
                cluster=cluster,
                starts_at=occurrence.starts_at,
                ends_at=occurrence.ends_at,
                window_version=window.version,
                claimed_at=now,
            )
    except IntegrityError:
        pass
    row = Materialization.objects.filter(
        window=window, occurrence_start=occurrence.key, cluster=cluster
    ).first()
    if row is None:
        return None
    if row.state == State.RETRY:
        return _take(row, window, now, state=State.RETRY)
    if row.state == State.MISSED and row.window_version < window.version:
        if occurrence.ends_at > now:  # refused by the policy; the window changed since
            return _take(row, window, now, state=State.MISSED, window_version=row.window_version)
    if row.state == State.ENDED and row.error == LEFT_SCHEDULE:
        return _take(row, window, now, state=State.ENDED, error=LEFT_SCHEDULE)
    if row.state == State.CLAIMED and row.claimed_at < now - stale_after():
        if _adopt_made(window, row):
            return None
        return _take(row, window, now, state=State.CLAIMED, claimed_at=row.claimed_at)
    return None


def _take(
    row: Materialization, window: Window, now: datetime, **expected
) -> Materialization | None:
    """Compare-and-swap: only one of two runs moves the row from what both read."""
    taken = Materialization.objects.filter(pk=row.pk, **expected).update(
        state=State.CLAIMED, claimed_at=now, window_version=window.version
    )
    if not taken:
        return None
    row.refresh_from_db()
    return row


def _adopt_made(window: Window, row: Materialization) -> bool:
    """The stale claim's run may have made the silence before it died: find it by marker."""
    try:
        held = clusters.alertmanager_for(row.cluster).list_silences()
    except (AlertmanagerError, LookupError) as e:
        log.warning("cannot look for the silence of %s: %s", row, e)
        return True  # not knowing, make nothing now; the next run looks again
    line = marker(window, row.occurrence_start)
    made = [s for s in held if s.state != "expired" and s.comment.endswith(line)]
    if not made:
        return False
    # Not mirrored here: the silences sync credits the dead run's intent with it (it looks for
    # silences it has not mirrored yet), so its audit row names the window as for any other.
    Materialization.objects.filter(pk=row.pk, state=State.CLAIMED).update(
        state=State.CREATED, silence_id=made[0].id, error=""
    )
    return True


def _save(row: Materialization, **values) -> None:
    Materialization.objects.filter(pk=row.pk).update(**values)
    for key, value in values.items():
        setattr(row, key, value)


# -- edits and misses ------------------------------------------------------------------------


def _update_outdated(window: Window, current: dict, now: datetime) -> None:
    """Silences made from an older version of the window: edited to the new one, or expired
    when their occurrence is no longer in the schedule."""
    outdated = window.materializations.filter(
        state=State.CREATED, ends_at__gt=now, window_version__lt=window.version
    )
    for row in outdated:
        occurrence = current.get(row.occurrence_start)
        if occurrence is None:
            end_materialization(actor_for(window), row, LEFT_SCHEDULE)
            continue
        try:
            silence = services.edit_silence(
                actor_for(window), row.silence_id, values_for(window, occurrence, now)
            )
        except SilenceActionError as e:
            if e.reason in ("not_found", "conflict"):
                _save(row, state=State.ENDED, error=e.message)
            elif e.reason == "policy":
                # Refused (and audited) once: the earlier silence stays, saying why; only the
                # window's next version tries again, not every run (each would be audited).
                _save(row, window_version=window.version, error=e.message)
            else:
                _save(row, error=e.message)
            continue
        _save(
            row,
            silence_id=silence.id,
            starts_at=silence.starts_at,
            ends_at=silence.ends_at,
            window_version=window.version,
        )


def end_materialization(actor, row: Materialization, why: str) -> None:
    """Expire the silence of one occurrence (or give up making it), by `actor`."""
    if row.state == State.CREATED and row.silence_id:
        try:
            services.expire_silence(actor, row.silence_id)
        except SilenceActionError as e:
            if e.reason not in ("conflict", "not_found"):
                _save(row, error=e.message)
                raise
    _save(row, state=State.ENDED, error=why)


def _record_refused(window: Window, row: Materialization, why: str) -> None:
    WindowChange.objects.create(
        window=window,
        action=WindowChange.Action.MISSED,
        source="job",
        note=(
            f"Occurrence {row.occurrence_start:%Y-%m-%d %H:%M} UTC in {row.cluster} will not be "
            f"silenced: {why} Edit the window to try again."
        ),
    )


def _record_missed(window: Window, now: datetime, report: Report) -> None:
    for row in window.materializations.filter(state=State.RETRY, ends_at__lte=now):
        if Materialization.objects.filter(pk=row.pk, state=State.RETRY).update(state=State.MISSED):
            WindowChange.objects.create(
                window=window,
                action=WindowChange.Action.MISSED,
                source="job",
                note=(
                    f"Occurrence {row.occurrence_start:%Y-%m-%d %H:%M} UTC in {row.cluster} was "
                    f"never silenced: {row.error}"
                ),
            )
            report.missed += 1
