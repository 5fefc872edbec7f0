"""The text of notices: a plain JSON "notice" for generic webhooks, and a Slack message.

Matchers, comments and createdBy are typed by whoever made the silence (or by any tool talking to
Alertmanager), so everything from them is escaped for Slack: without it a comment could ping
the whole channel (`<!channel>`) or show a link whose text lies about its target.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.urls import reverse

from alertui import clusters
from alertui.audit.models import AuditEvent
from alertui.matchers import Matcher

Action = AuditEvent.Action
Source = AuditEvent.Source

POLICY = Source.POLICY  # changes made by an alertui policy (the stale-silence policy)
MAX_COMMENT = 500
MAX_MATCHER = 200
MAX_MATCHERS = 20
MAX_ALERTNAMES = 5

_VERBS = {
    Action.CREATED: "created",
    Action.RECREATED: "recreated",
    Action.EDITED: "edited",
    Action.REPLACED: "edited",
    Action.EXTENDED: "extended",
    Action.EXPIRED: "expired",
}


def silence_url(silence_id: str) -> str:
    return settings.SITE_URL + reverse("silence_detail", args=[silence_id])


def audit_url(silence_id: str) -> str:
    return settings.SITE_URL + reverse("audit_silence", args=[silence_id])


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def event_notice(event: AuditEvent) -> dict:
    """The generic webhook body for a recorded silence change."""
    after = event.after or {}
    return {
        "kind": f"silence.{event.action}",
        "cluster": event.cluster,
        "silence_id": event.silence_id,
        "previous_silence_id": event.previous_silence_id,
        # Who made the change: an alertui user, or for a silence the sync job found created
        # outside alertui, its createdBy. Alertmanager names nobody for other changes made
        # outside alertui ("": not the creator, who may not be the one who changed it).
        "actor": event.actor_name,
        "created_by": after.get("createdBy", ""),
        "source": event.source,
        "matchers": [str(Matcher(*m)) for m in event.matchers],
        "starts_at": iso(event.starts_at),
        "ends_at": iso(event.ends_at),
        "comment": event.comment,
        "url": silence_url(event.silence_id),
        "audit_url": audit_url(event.silence_id),
        "at": iso(event.at),
        "note": event.note,
    }


def reminder_notice(silence, alertnames: list[str], muted: int, at: datetime) -> dict:
    """The generic webhook body for "this silence ends soon and still mutes firing alerts"."""
    return {
        "kind": "silence.reminder",
        "cluster": silence.cluster,
        "silence_id": silence.id,
        "previous_silence_id": "",
        "actor": silence.created_by,
        "created_by": silence.created_by,
        "source": "reminder",
        "matchers": [str(m) for m in silence.matcher_list],
        "starts_at": iso(silence.starts_at),
        "ends_at": iso(silence.ends_at),
        "comment": silence.comment,
        "url": silence_url(silence.id),
        "audit_url": audit_url(silence.id),
        "at": iso(at),
        "muted_alerts": muted,
        "alertnames": alertnames[:MAX_ALERTNAMES],
    }


# -- Slack ------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack's required escaping: these three characters are all it parses for mentions and
    links, so escaped text can only ever show as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_time(iso_time: str | None) -> str:
    """UTC in the fallback text; Slack's date token shows it in each reader's own zone."""
    if not iso_time:
        return "?"
    moment = datetime.fromisoformat(iso_time.replace("Z", "+00:00"))
    utc = f"{moment:%Y-%m-%d %H:%M} UTC"
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{utc}>"


def _when_plain(iso_time: str | None) -> str:
    if not iso_time:
        return "?"
    return f"{datetime.fromisoformat(iso_time.replace('Z', '+00:00')):%Y-%m-%d %H:%M} UTC"


def _who(notice: dict, key: str = "actor") -> str:
    return f"*{escape(clip(notice.get(key) or 'someone', 100))}*"


def headline(notice: dict) -> str:
    """One sentence: who did what. Escaped mrkdwn."""
    kind = notice["kind"].removeprefix("silence.")
    link = f"<{escape(notice['url'])}|silence {escape(notice['silence_id'][:8])}>"
    if notice.get("cluster") and len(clusters.names()) > 1:
        link += f" in cluster {escape(notice['cluster'])}"  # several: say which one
    if kind == "reminder":
        count = notice["muted_alerts"]
        alerts = "alert" if count == 1 else "alerts"
        return (
            f":hourglass: {link} by {_who(notice)} ends {slack_time(notice['ends_at'])} "
            f"and still mutes {count} firing {alerts}"
        )
    verb = _VERBS.get(kind, kind)
    if notice["source"] == Source.SYNC:
        # Made with amtool or another UI: alertui only saw the result in Alertmanager.
        return (
            f"A {link} was {verb} outside alertui (seen in Alertmanager; createdBy "
            f"{_who(notice, 'created_by')})"
        )
    if notice["source"] == POLICY:
        # Nobody clicked anything: say whose silence the policy ended, so its owner sees it.
        return f"The {_who(notice)} {verb} {link}, made by {_who(notice, 'created_by')}"
    via = " through the API" if notice["source"] == Source.API else ""
    text = f"{_who(notice)} {verb} {link}{via}"
    if kind == Action.REPLACED and notice["previous_silence_id"]:
        previous = escape(notice["previous_silence_id"][:8])
        text += f" (Alertmanager gave it a new id; it replaces {previous})"
    return text


def _details(notice: dict) -> str:
    matchers = [escape(clip(m, MAX_MATCHER)) for m in notice["matchers"][:MAX_MATCHERS]]
    if len(notice["matchers"]) > MAX_MATCHERS:
        matchers.append(f"and {len(notice['matchers']) - MAX_MATCHERS} more")
    lines = [f"*Matchers:* {', '.join(f'`{m}`' for m in matchers) or '(none)'}"]
    if notice["kind"] == "silence.expired":
        lines.append(f"*Ended:* {slack_time(notice['ends_at'])}")
    else:
        lines.append(f"*Until:* {slack_time(notice['ends_at'])}")
    if notice.get("alertnames"):
        names = ", ".join(escape(clip(n, MAX_MATCHER)) for n in notice["alertnames"])
        lines.append(f"*Muted alerts:* {names}")
    comment = escape(clip(notice["comment"], MAX_COMMENT)) or "(none)"
    lines.append(f"*Why:* {comment}")
    if notice.get("note"):
        lines.append(f"*Note:* {escape(clip(notice['note'], MAX_COMMENT))}")
    return "\n".join(lines)


def _fallback(notice: dict) -> str:
    """The plain text Slack shows in notifications (and clients without blocks)."""
    kind = notice["kind"].removeprefix("silence.")
    actor = clip(notice["actor"] or "someone", 100)
    matchers = clip(", ".join(notice["matchers"]), MAX_MATCHER)
    end = _when_plain(notice["ends_at"])
    # An expired silence ended at ends_at; any other runs until then.
    when = f"at {end}" if kind == "expired" else f"until {end}"
    if kind == "reminder":
        text = f"Silence {matchers} by {actor} ends {end} and still mutes firing alerts"
    elif notice["source"] == Source.SYNC:
        text = f"Silence {matchers} was {_VERBS.get(kind, kind)} outside alertui, {when}"
    elif notice["source"] == POLICY:
        owner = clip(notice["created_by"] or "someone", 100)
        text = f"The {actor} {_VERBS.get(kind, kind)} silence {matchers} of {owner} {when}"
    else:
        text = f"{actor} {_VERBS.get(kind, kind)} silence {matchers} {when}"
    return escape(f"{text}: {clip(notice['comment'], 150)}")


def slack_payload(notice: dict) -> dict:
    url, history = escape(notice["url"]), escape(notice["audit_url"])
    action = "Extend" if notice["kind"] == "silence.reminder" else "Open"
    links = f"<{url}|{action} the silence> · <{history}|History>"
    return {
        "text": _fallback(notice),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": headline(notice)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _details(notice)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": links}]},
        ],
    }
