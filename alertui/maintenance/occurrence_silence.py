"""What a window's silence for one occurrence holds: who made it, its times, its comment."""

from __future__ import annotations

from datetime import datetime

from alertui.audit.models import AuditEvent
from alertui.maintenance.models import Window
from alertui.maintenance.schedule import Occurrence
from alertui.silences.recorder import Actor
from alertui.silences.services import SilenceValues


def actor_for(window: Window) -> Actor:
    """The owner makes the silence (Alertmanager shows them as its creator); the audit names
    the window as well, since no person clicked anything."""
    owner = window.owner.get_username()
    return Actor(
        window.owner,
        source=AuditEvent.Source.MAINTENANCE,
        label=f"maintenance window {window.name}, owner {owner}",
    )


def marker(window: Window, occurrence_key: datetime) -> str:
    """The comment's last line: finds the silence of an occurrence again in Alertmanager when
    the run that made it died before recording it (stable across renames)."""
    key = f"{occurrence_key:%Y-%m-%dT%H:%M:%SZ}"
    return f"[alertui maintenance window {window.uid}, occurrence {key}]"


# What comment_for puts between the window's comment and the lines alertui adds.
NAME_LINE = "\n\nMaintenance window \u201c"


def comment_for(window: Window, occurrence_key: datetime) -> str:
    return (
        f"{window.comment.strip()}{NAME_LINE}{window.name}\u201d\n{marker(window, occurrence_key)}"
    )


def written_comment(comment: str) -> str:
    """The window's own comment, without the lines comment_for adds after it."""
    return comment.rpartition(NAME_LINE)[0] if NAME_LINE in comment else comment


def values_for(window: Window, occurrence: Occurrence, now: datetime) -> SilenceValues:
    """A silence from the occurrence's start, or from now for the rest of a running one."""
    return SilenceValues(
        tuple(window.matcher_list),
        max(occurrence.starts_at, now),
        occurrence.ends_at,
        comment_for(window, occurrence.key),
    )
