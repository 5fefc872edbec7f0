"""What a person is told after a silence change, and the undo it offers.

The message text is plain text: it names alerts, whose names are label values anyone who can
push an alert chooses, so it is escaped like any other message. The undo button needs markup:
templates/silences/_message.html renders it from the message's tags (`undo undo-<kind>
silence-<id>`), never from HTML in the text.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from alertui.alerts.local_changes import Effect
from alertui.audit.models import AuditEvent
from alertui.integrations import values
from alertui.matchers import Matcher
from alertui.silences.forms import viewer_zone
from alertui.silences.services import SilenceValues

Action = AuditEvent.Action
# Each undo, by what the change was: the view the undo form posts to.
UNDO_VIEWS = {
    "expire": "silence_expire",  # undo of a new silence: expire it
    "restore": "silence_restore",  # undo of an expire: recreate it as it was
}
NAMES_SHOWN = 3


def local_time(when: datetime, zone_name: str | None) -> str:
    """`13:24` today in the viewer's zone, `2026-01-15 13:24` another day (UTC, and said so,
    when the page sent no zone)."""
    zone = viewer_zone(zone_name)
    local, today = when.astimezone(zone), timezone.now().astimezone(zone).date()
    text = f"{local:%H:%M}" if local.date() == today else f"{local:%Y-%m-%d %H:%M}"
    return f"{text} UTC" if zone is UTC else text


def _alerts(count: int) -> str:
    return f"{count} alert{'' if count == 1 else 's'}"


def _names(effect: Effect) -> str:
    names = [n[:80] for n in effect.alertnames[:NAMES_SHOWN] if n]
    more = ", …" if len(effect.alertnames) > NAMES_SHOWN else ""
    return f" ({', '.join(names)}{more})" if names else ""


def created_text(silence, effect: Effect, zone_name: str | None) -> str:
    until = local_time(silence.ends_at, zone_name)
    if silence.starts_at > timezone.now():
        start = local_time(silence.starts_at, zone_name)
        return f"Silence created: it starts at {start} and lasts until {until}."
    if not effect.applied:
        return f"Silence created until {until}; the alerts page shows it after the next sync."
    if not effect.muted:
        return f"Silence created until {until}; no current alert matches it."
    return f"Silenced {_alerts(effect.muted)} until {until}{_names(effect)}."


def report_created(request, outcomes, zone_name: str | None):
    """One message per cluster a new silence was to be made in (naming the cluster when there
    are several), each made one with its undo; the first silence made, or None."""
    from alertui import clusters
    from alertui.alerts import local_changes

    several = len(clusters.names()) > 1
    made = None
    for outcome in outcomes:
        where = f"{outcome.cluster}: " if several else ""
        if outcome.error is not None:
            messages.error(request, f"{where}not created: {outcome.error.message}")
            continue
        silence = outcome.silence
        made = made or silence
        text = created_text(silence, local_changes.silence_created(silence), zone_name)
        offer_undo(request, where + text, "expire", silence.id)
    return made


def expired_text(effect: Effect) -> str:
    if not effect.applied:
        return "Silence expired. The alerts page shows it after the next sync."
    if not effect.notify_again:
        return "Silence expired."
    verb = "notifies" if effect.notify_again == 1 else "notify"
    return f"Silence expired. {_alerts(effect.notify_again)} {verb} again."


def offer_undo(request, text: str, kind: str, silence_id: str) -> None:
    """A success message whose template shows an undo button (when the id can be linked)."""
    tags = f"undo undo-{kind} silence-{silence_id}" if values.ID.fullmatch(silence_id) else ""
    messages.success(request, text, extra_tags=tags)


def undo_of(message) -> dict | None:
    """The undo a message offers, {"action": url, "kind": kind}, or None: read back from the
    tags offer_undo wrote (anything else in them is ignored)."""
    tags = str(getattr(message, "extra_tags", "") or "").split()
    if "undo" not in tags:
        return None
    kinds = [t.removeprefix("undo-") for t in tags if t.startswith("undo-")]
    ids = [t.removeprefix("silence-") for t in tags if t.startswith("silence-")]
    if len(kinds) != 1 or kinds[0] not in UNDO_VIEWS or len(ids) != 1:
        return None
    if not values.ID.fullmatch(ids[0]):
        return None
    return {"action": reverse(UNDO_VIEWS[kinds[0]], args=[ids[0]]), "kind": kinds[0]}


def restore_values(silence_id: str) -> SilenceValues:
    """The silence as it was before its last expiry through alertui, starting now: the undo of
    an expire. Read from the expiry's audit row (the mirror holds the expired end by then)."""
    expiry = (
        AuditEvent.objects.filter(
            silence_id=silence_id, action=Action.EXPIRED, outcome=AuditEvent.Outcome.SUCCEEDED
        )
        .order_by("-at", "-id")
        .first()
    )
    if expiry is None or not isinstance(expiry.before, dict):
        raise ValidationError("alertui has no record of expiring this silence; recreate it.")
    again = AuditEvent.objects.filter(
        previous_silence_id=silence_id,
        action=Action.RECREATED,
        outcome=AuditEvent.Outcome.SUCCEEDED,
        at__gte=expiry.at,
    ).first()
    if again is not None:
        raise ValidationError(f"This silence was already recreated, as {again.silence_id}.")
    ends_at = _aware(expiry.before.get("endsAt"))
    now = timezone.now()
    if ends_at is None:
        raise ValidationError("alertui cannot tell when this silence was to end; recreate it.")
    if ends_at <= now:
        raise ValidationError("This silence would have ended by now anyway; nothing to undo.")
    matchers = tuple(Matcher(*m) for m in expiry.matchers)
    return SilenceValues(matchers, now, ends_at, expiry.comment)


def _aware(text) -> datetime | None:
    try:
        value = parse_datetime(text) if isinstance(text, str) else None
    except ValueError:
        return None
    if value is not None and timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value
