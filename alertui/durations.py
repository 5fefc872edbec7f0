"""Durations as people type them: `90m`, `2h`, `1d 4h`, `1w`, `1.5h`, `30s`.

The same syntax as the Alertmanager UI's duration field, so engineers can type what they know.
"""

import re
from datetime import timedelta

UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_TERM = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([wdhms])")
_WHOLE = re.compile(r"^\s*(?:[0-9]+(?:\.[0-9]+)?\s*[wdhms]\s*)+$")
# Far beyond any silence; keeps arithmetic on dates from overflowing.
LONGEST = timedelta(days=3650)


class DurationError(ValueError):
    pass


def parse_duration(text: str) -> timedelta:
    text = (text or "").strip().lower()
    if not text:
        raise DurationError("Enter a duration such as 90m, 2h, 1d 4h or 1w.")
    if not _WHOLE.match(text):
        raise DurationError(
            f"{text!r} is not a duration. Use numbers with units w, d, h, m or s, "
            "for example 90m, 2h, 1d 4h or 1w."
        )
    seconds = sum(float(number) * UNITS[unit] for number, unit in _TERM.findall(text))
    if seconds <= 0:
        raise DurationError("The duration must be longer than zero.")
    if seconds > LONGEST.total_seconds():
        raise DurationError("That duration is longer than ten years.")
    return timedelta(seconds=round(seconds))


def format_duration(delta: timedelta) -> str:
    """`1d 4h`, `2h 30m`, `45s`: the two largest non-zero units, no less than a second."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in UNITS.items():
        if unit == "w":
            continue  # days read better than weeks in a countdown
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts[:2])
