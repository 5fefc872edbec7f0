"""Child task "seed": the audit rows, bulk-inserted. Imported only after django.setup()."""

from __future__ import annotations

import random
import time
import uuid
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from alertui.audit.models import AuditEvent

from .alertmanager_data import COMPONENTS, NAMESPACES, SILENCE_COMMENTS

PEOPLE = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]
Action, Source, Outcome = AuditEvent.Action, AuditEvent.Source, AuditEvent.Outcome
ACTIONS = [
    Action.CREATED,
    Action.EXTENDED,
    Action.EDITED,
    Action.REPLACED,
    Action.EXPIRED,
    Action.RECREATED,
    Action.ENDED,
]
ACTION_WEIGHTS = [30, 15, 8, 5, 20, 4, 18]
PERSON_WEIGHTS = [6, 4, 3, 3, 2, 1, 1]  # alice does the most
FREE_TEXT = ["amtool", "alice.smith@example.com", "grafana", "erin@example.com", "ci-bot", ""]
YEAR = 365 * 86400


def seed_audit(spec: dict) -> dict:
    """Bulk-insert audit rows: a year of silence changes by a team, plus sync-observed ones."""
    rng = random.Random(spec["seed"])
    users = {}
    for name in PEOPLE:
        user, created = User.objects.get_or_create(username=name)
        if created:
            user.set_unusable_password()
            user.save()
        users[name] = user
    now = timezone.now()
    started = time.perf_counter()
    batch: list[AuditEvent] = []
    total = 0
    for _ in range(spec["count"]):
        batch.append(AuditEvent(**_audit_fields(rng, users, now)))
        if len(batch) >= 5000:
            AuditEvent.objects.bulk_create(batch)
            total += len(batch)
            batch = []
    if batch:
        AuditEvent.objects.bulk_create(batch)
        total += len(batch)
    features = _seed_windows_and_templates(rng, users, now)
    seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what autovacuum would do shortly after a bulk load
    return {
        "rows": total,
        "seconds": seconds,
        "alice_expired": AuditEvent.objects.filter(
            actor_name__icontains="alice", action="expired"
        ).count(),
        **features,
    }


WINDOWS, CHANGES_PER_WINDOW, TEMPLATES = 200, 50, 200


def _seed_windows_and_templates(rng: random.Random, users: dict, now) -> dict:
    """For /maintenance/history/ and /silences/templates/: 200 deleted maintenance windows (the
    job and /maintenance/ leave them alone) with 50 history rows each, and 200 silence
    templates."""
    from alertui.maintenance.models import Window, WindowChange
    from alertui.silence_templates.models import SilenceTemplate

    people = list(users.values())
    windows = Window.objects.bulk_create(
        Window(
            name=f"{rng.choice(COMPONENTS)} patch night {i}",
            matchers=[["namespace", "=", rng.choice(NAMESPACES)]],
            matchers_text=f'namespace="{rng.choice(NAMESPACES)}"',
            comment="Monthly patching",
            owner=rng.choice(people),
            start_date=now.date(),
            start_time=now.time().replace(microsecond=0),
            time_zone="Europe/Berlin",
            duration=timedelta(hours=2),
            frequency="weekly",
            weekdays=[rng.randrange(7)],
            deleted_at=now,
        )
        for i in range(WINDOWS)
    )
    actions = [a for a, _label in WindowChange.Action.choices]
    WindowChange.objects.bulk_create(
        (
            WindowChange(
                window=window,
                at=now - timedelta(seconds=rng.randrange(YEAR)),
                action=rng.choice(actions),
                actor=(person := rng.choice(people)),
                actor_name=person.username,
                source="browser",
            )
            for window in windows
            for _ in range(CHANGES_PER_WINDOW)
        ),
        batch_size=5000,
    )
    SilenceTemplate.objects.bulk_create(
        SilenceTemplate(
            name=f"{rng.choice(COMPONENTS)} reboot {i}",
            matchers=[["namespace", "=", rng.choice(NAMESPACES)], ["alertname", "=~", ".+"]],
            matchers_text='namespace="x", alertname=~".+"',
            duration="2h",
            comment="Rebooting {{ node }}",
            owner=rng.choice(people),
        )
        for i in range(TEMPLATES)
    )
    return {"window_changes": WINDOWS * CHANGES_PER_WINDOW, "templates": TEMPLATES}


def _audit_fields(rng: random.Random, users: dict, now) -> dict:
    """One audit row within the last year: by a person (browser, API) or seen by the sync."""
    action = rng.choices(ACTIONS, ACTION_WEIGHTS)[0]
    source = rng.choices([Source.BROWSER, Source.SYNC, Source.API], [60, 35, 5])[0]
    if action == Action.ENDED:
        source = Source.SYNC
    at = now - timedelta(seconds=rng.uniform(0, YEAR))
    ns = rng.choice(NAMESPACES)
    pod = f"{ns}-{rng.choice(COMPONENTS)}-{rng.randrange(16**8):08x}"
    matchers = [["namespace", "=", ns], ["pod", "=", pod]]
    matchers_text = f'namespace="{ns}", pod="{pod}"'
    starts = at - timedelta(minutes=rng.choice([0, 0, 5, 60]))
    ends = starts + timedelta(hours=rng.choice([1, 2, 4, 8, 24, 72]))
    comment = rng.choice(SILENCE_COMMENTS).format(t=rng.randrange(1000, 9999))
    silence_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    after = {
        "matchers": [f'{m[0]}="{m[2]}"' for m in matchers],
        "startsAt": starts.isoformat(),
        "endsAt": ends.isoformat(),
        "createdBy": "",
        "comment": comment,
    }
    fields = dict(
        at=at,
        action=action,
        source=source,
        silence_id=silence_id,
        matchers=matchers,
        matchers_text=matchers_text,
        starts_at=starts,
        ends_at=ends,
        comment=comment,
        after=after,
    )
    if source == Source.SYNC:
        fields["actor_name"] = rng.choice(FREE_TEXT) if action == Action.CREATED else ""
        fields["note"] = {
            Action.CREATED: "Created outside alertui (createdBy is Alertmanager's free text).",
            Action.ENDED: "Reached its end time.",
        }.get(action, "Changed outside alertui; Alertmanager does not record by whom.")
    else:
        person = rng.choices(PEOPLE, PERSON_WEIGHTS)[0]
        fields.update(
            actor=users[person],
            actor_name=person,
            remote_addr=f"10.8.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            request_id=uuid.UUID(int=rng.getrandbits(128), version=4).hex,
        )
        after["createdBy"] = person
    if action in (Action.EDITED, Action.EXTENDED, Action.REPLACED, Action.EXPIRED):
        fields["before"] = {**after, "endsAt": (ends - timedelta(hours=1)).isoformat()}
    if action == Action.REPLACED:
        fields["previous_silence_id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if source != Source.SYNC and rng.random() < 0.03:
        fields["outcome"] = Outcome.FAILED
        fields["error"] = "silence not found"
    return fields
