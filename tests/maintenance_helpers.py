"""Shared by the maintenance window tests: a window made through the service, and its silences
as the real Alertmanager holds them."""

import json
from datetime import UTC, datetime, timedelta

from alertui.maintenance.schedule import Schedule
from alertui.maintenance.services import WindowFields, create_window
from alertui.matchers import Matcher
from alertui.silences.recorder import Actor


def once_fields(tag, starts_at: datetime, length=timedelta(hours=1), name=None, comment="patch"):
    local = starts_at.astimezone(UTC)
    return WindowFields(
        name=name or f"window {tag}",
        matchers=(Matcher("test_id", "=", tag),),
        comment=f"{comment} {tag}",
        schedule=Schedule(local.date(), local.time().replace(microsecond=0), "UTC", length),
    )


def make_window(user, tag, starts_at, **kwargs):
    return create_window(Actor(user), once_fields(tag, starts_at, **kwargs))


def silences_of(am, tag, live=True) -> list[dict]:
    """Alertmanager's silences for the test's tag (not expired ones, unless live=False)."""
    found = [s for s in am.raw_silences() if tag in json.dumps(s)]
    return [s for s in found if s["status"]["state"] != "expired"] if live else found


def soon(seconds: int) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)
