"""Notices of a maintenance window's own changes (created, edited, paused, resumed, deleted,
ended early, an occurrence skipped, moved or missed), sent like silence notices.

The silences a window makes are announced as silence changes already (their audit rows); these
tell the team about the plan itself, and about an occurrence the job could never silence.
Names, matchers, comments and notes are typed by people, so Slack text is escaped the same way.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from alertui.maintenance.models import WindowChange
from alertui.maintenance.schedule import Schedule, describe
from alertui.maintenance.windows import upcoming
from alertui.notices.messages import MAX_COMMENT, MAX_MATCHER, clip, escape, iso, slack_time

Action = WindowChange.Action

_VERBS = {
    Action.CREATED: "planned",
    Action.EDITED: "edited",
    Action.PAUSED: "paused",
    Action.RESUMED: "resumed",
    Action.DELETED: "deleted",
    Action.ENDED_EARLY: "ended early",
    Action.SKIPPED: "skipped an occurrence of",
    Action.MOVED: "moved an occurrence of",
}
# After these the window silences nothing more: no next occurrence to show.
_NOTHING_NEXT = {Action.PAUSED, Action.DELETED}


def window_notice(change: WindowChange) -> dict:
    """The generic webhook body for one change of a window."""
    window = change.window
    following = None if change.action in _NOTHING_NEXT or not window.active else upcoming(window, 1)
    return {
        "kind": f"maintenance.{change.action.replace(' ', '_')}",
        "window_id": window.pk,
        "window": window.name,
        "clusters": list(window.clusters),
        # Who: the person, or "" for the job (a missed occurrence is nobody's doing).
        "actor": change.actor_name,
        "owner": window.owner.get_username(),
        "source": change.source,
        "matchers": [str(m) for m in window.matcher_list],
        "schedule": describe(Schedule.of(window)),
        "next_starts_at": iso(following[0].starts_at) if following else None,
        "next_ends_at": iso(following[0].ends_at) if following else None,
        "comment": window.comment,
        "note": change.note,
        "url": settings.SITE_URL + reverse("maintenance_detail", args=[window.pk]),
        "at": iso(change.at),
        # Deliveries are filed by silence id; a window's notice is about no single silence.
        "silence_id": "",
    }


def headline(notice: dict) -> str:
    link = f"<{escape(notice['url'])}|{escape(clip(notice['window'], 100))}>"
    if notice["kind"] == "maintenance.missed":
        return f":warning: Maintenance window {link} missed an occurrence: it was never silenced"
    who = f"*{escape(clip(notice['actor'] or 'someone', 100))}*"
    verb = _VERBS.get(notice["kind"].removeprefix("maintenance.").replace("_", " "), "changed")
    via = " through the API" if notice["source"] == "api" else ""
    return f":construction: {who} {verb} maintenance window {link}{via}"


def _details(notice: dict) -> str:
    matchers = ", ".join(f"`{escape(clip(m, MAX_MATCHER))}`" for m in notice["matchers"][:20])
    lines = [f"*Matchers:* {matchers or '(none)'}", f"*When:* {escape(notice['schedule'])}"]
    if notice["next_starts_at"]:
        lines.append(f"*Next:* {slack_time(notice['next_starts_at'])}")
    if notice["note"]:
        lines.append(f"*Note:* {escape(clip(notice['note'], MAX_COMMENT))}")
    lines.append(f"*Why:* {escape(clip(notice['comment'], MAX_COMMENT)) or '(none)'}")
    return "\n".join(lines)


def slack_payload(notice: dict) -> dict:
    action = notice["kind"].removeprefix("maintenance.").replace("_", " ")
    if notice["kind"] == "maintenance.missed":
        text = f"Maintenance window {clip(notice['window'], 100)} missed an occurrence"
    else:
        who = clip(notice["actor"] or "someone", 100)
        text = f"{who} {_VERBS.get(action, 'changed')} maintenance window {notice['window']}"
    return {
        "text": escape(clip(text, 300)),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": headline(notice)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _details(notice)}},
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"<{escape(notice['url'])}|Open the window>"}
                ],
            },
        ],
    }
