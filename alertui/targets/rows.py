"""A failing target's table cells, rendered when the sync finds what they show changed and
stored on the row, so /targets/ reads a page of ready HTML whatever the number of failing
targets. The last scrape, which moves at every scrape, is left out of the stored cells (so a
steady sync renders nothing) and filled in by the page, a cell per row with format_html.

Each stored rendering names the template it came from (a digest of its source): a row
rendered by another version of the template (before an upgrade) is rendered again by the
page that shows it, and by the next sync, never shown as it was.
"""

from __future__ import annotations

import hashlib

from django.template.loader import get_template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

TEMPLATE = "targets/_target_row.html"
# Where the template leaves the last scrape's cell. Label values and errors cannot make it:
# the template escapes their < and >.
LAST_SCRAPE = "<!--last-scrape-->"
# The fields the stored cells show: a change of any other (the last scrape) renders nothing.
SHOWN = ("scrape_url", "health", "last_error", "labels", "failing_since")


def template_version() -> str:
    """A digest of the template's source (read through Django's cached template loader)."""
    source = get_template(TEMPLATE).template.source
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def render_cells(target) -> str:
    """The row's cells as the template renders them (autoescaped)."""
    return get_template(TEMPLATE).render({"t": target})


def refresh(target, version: str) -> None:
    """Store the row's rendering by the template of `version` on it (the caller saves it)."""
    target.row_html = render_cells(target)
    target.row_template = version


def is_current(target, version: str) -> bool:
    return bool(target.row_html) and target.row_template == version


def last_scrape_cell(target) -> str:
    if target.last_scrape is None:
        return '<td data-label="Last scrape">never</td>'
    return format_html(
        '<td data-label="Last scrape"><time datetime="{}">{} UTC</time>'
        ' <span class="muted">({}s)</span></td>',
        target.last_scrape.isoformat(),
        f"{target.last_scrape:%Y-%m-%d %H:%M:%S}",
        f"{target.last_scrape_duration:.3f}",
    )


def cells(target, version: str) -> SafeString:
    """The row's cells: the stored rendering (or a fresh one when it is of another template)
    with the last scrape's cell filled in. Safe: the stored text is the autoescaped output of
    TEMPLATE, written only by refresh(), and the cell is built by format_html."""
    stored = target.row_html if is_current(target, version) else render_cells(target)
    return mark_safe(stored.replace(LAST_SCRAPE, last_scrape_cell(target), 1))  # noqa: S308
