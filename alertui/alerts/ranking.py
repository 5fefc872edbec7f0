"""The order of the alerts page at 3 a.m.: what still notifies, worst first, newest first.

A group is ranked by the worst severity among its *active* alerts (silenced and inhibited ones
notify nobody), then by the newest start among them, so a new critical comes first however
many older criticals or noisy warnings fire. Groups with nothing active come last. Ties fall
back to the group's name in natural order (LoadAlert2 before LoadAlert10).

Pages: every group holding an active critical is on page 1, however many there are; the
other groups fill the pages after them, GROUPS_PER_PAGE at a time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

SEVERITY_ORDER = {"critical": 0, "error": 1, "warning": 2, "info": 3, "none": 5}
UNKNOWN_SEVERITY = 4  # a severity alertui does not know: between info and none
NOTHING_ACTIVE = 9
_OLDEST = datetime.min.replace(tzinfo=UTC)
_DIGITS = re.compile(r"(\d+)")


def severity_rank(severity: str) -> int:
    return SEVERITY_ORDER.get(severity or "none", UNKNOWN_SEVERITY)


def natural_key(text: str | None) -> tuple:
    """LoadAlert2 before LoadAlert10; the group of alerts lacking the label last."""
    if text is None:
        return (1, ())
    parts = _DIGITS.split(text.lower())
    # Alternating text and numbers (a leading "" when it starts with a digit), compared
    # pairwise; the length of a number's digits breaks "02" and "2" apart deterministically.
    return (0, tuple((int(p), len(p)) if i % 2 else (0, p) for i, p in enumerate(parts)), text)


def alert_order(alert) -> tuple:
    """Within a group: most severe first, then what still notifies, then the newest."""
    started = alert.starts_at or _OLDEST
    return (severity_rank(alert.severity), alert.state != "active", -started.timestamp())


def group_rank(group) -> tuple:
    active = [a for a in group.alerts if a.state == "active"]
    ranked = active or group.alerts
    worst = min((severity_rank(a.severity) for a in ranked), default=NOTHING_ACTIVE)
    newest = max((a.starts_at or _OLDEST for a in ranked), default=_OLDEST)
    return (0 if active else 1, worst, -newest.timestamp(), natural_key(group.value))


def has_active_critical(group) -> bool:
    return any(a.state == "active" and a.severity == "critical" for a in group.alerts)


class Pages:
    """The ranked groups cut into pages: page 1 holds every group with an active critical
    (ranked first, so they are its head) and at least `per_page` groups; then `per_page` each.
    Offers what templates/_pager.html and the page's heading read of a Django Page."""

    def __init__(self, groups: list, per_page: int):
        critical = 0
        while critical < len(groups) and has_active_critical(groups[critical]):
            critical += 1
        first = max(per_page, critical)
        self.bounds = [(0, min(first, len(groups)))]
        start = first
        while start < len(groups):
            self.bounds.append((start, min(start + per_page, len(groups))))
            start += per_page
        self.groups = groups
        self.num_pages = len(self.bounds)

    def get_page(self, number) -> Page:
        """Like Paginator.get_page: a bad number is page 1, one past the end the last page."""
        try:
            number = int(number)
        except (TypeError, ValueError):
            number = 1
        number = min(max(number, 1), self.num_pages)
        start, end = self.bounds[number - 1]
        return Page(self, number, self.groups[start:end])


class Page:
    def __init__(self, paginator: Pages, number: int, object_list: list):
        self.paginator, self.number, self.object_list = paginator, number, object_list

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)

    def has_other_pages(self) -> bool:
        return self.paginator.num_pages > 1

    def has_previous(self) -> bool:
        return self.number > 1

    def has_next(self) -> bool:
        return self.number < self.paginator.num_pages

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_page_number(self) -> int:
        return self.number + 1
