"""The checks a silence must pass before anything is sent to Alertmanager.

Alertmanager 0.25-0.27 expires the original silence when a replacing edit fails its own checks,
so every rule it enforces is enforced here first, plus ours: a comment is required, the duration
is capped, and a silence starts within ten years (a mistyped year, not a plan).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from alertui.durations import LONGEST, format_duration
from alertui.matchers import Matcher, MatcherError, validate_silence_matchers


def validate_silence(
    matchers: list[Matcher], starts_at: datetime, ends_at: datetime, comment: str
) -> None:
    """Raise ValidationError with a message per field ("matchers", "starts_at", ...)."""
    errors: dict[str, str] = {}
    now = timezone.now()
    try:
        validate_silence_matchers(matchers)
    except MatcherError as e:
        errors["matchers"] = str(e)
    if not (comment or "").strip():
        errors["comment"] = "Say why: a comment is required."
    if starts_at - now > LONGEST:
        # Alertmanager keeps a silence until its end plus its retention, which must come before
        # the year 10000; 0.25-0.27 expire the original before refusing a replacing edit.
        errors["starts_at"] = (
            "The start is more than ten years away: check the year. Alertmanager cannot keep "
            "silences that far ahead."
        )
    elif ends_at <= starts_at:
        errors["ends_at"] = "The end must be after the start."
    elif ends_at <= now:
        errors["ends_at"] = "The end is in the past."
    else:
        maximum = timedelta(seconds=settings.SILENCE_MAX_DURATION)
        if ends_at - max(starts_at, now) > maximum:
            errors["ends_at"] = (
                f"A silence may last at most {format_duration(maximum)}; "
                "shorten it or ask an administrator to raise SILENCE_MAX_DURATION."
            )
    if errors:
        raise ValidationError(errors)
