"""The silence list's "show" filters: stale, mine, ending soon, longest running.

"Stale" reads what the alerts sync stored (stale_silences.SilenceMatch), never the alerts."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

SHOWS = {
    "": "Any",
    "stale": "Stale",
    "mine": "Mine",
    "ending": "Ending soon",
    "longest": "Longest running",
}
# These look at active silences only: the list's state is set to "active" with them.
ACTIVE_ONLY = ("stale", "ending", "longest")
ENDING_SOON = timedelta(hours=1)


def clean_show(value: str) -> str:
    return value if value in SHOWS else ""


def apply_show(silences, show: str, user, now: datetime):
    """`silences` (a Silence queryset) narrowed and ordered as `show` asks."""
    if show == "stale":
        cutoff = now - timedelta(seconds=settings.SILENCE_STALE_AFTER)
        # Started before the cutoff too: a moved pending silence keeps its first start as
        # its quiet_since (stale_silences.policy.stale).
        quiet = silences.filter(starts_at__lte=cutoff)
        return quiet.filter(match__muting=False, match__quiet_since__lte=cutoff).order_by(
            "match__quiet_since", "ends_at"
        )
    if show == "mine":
        return silences.filter(created_by=user.get_username())
    if show == "ending":
        soon = now + ENDING_SOON
        return silences.filter(ends_at__lte=soon).order_by("ends_at")
    if show == "longest":
        return silences.order_by("starts_at", "ends_at")
    return silences
