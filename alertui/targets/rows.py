"""A failing target's table cells, rendered once when the sync writes the row and stored on
it, so /targets/ reads a page of ready HTML whatever the number of failing targets.

Each stored rendering names the template it came from (a digest of its source): a row
rendered by another version of the template (before an upgrade) is rendered again by the
page that shows it, and by the next sync, never shown as it was.
"""

from __future__ import annotations

import hashlib

from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe

TEMPLATE = "targets/_target_row.html"


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


def cells(target, version: str) -> SafeString:
    """The row's cells: the stored rendering, or a fresh one when it is of another template.
    Safe: the stored text is the autoescaped output of TEMPLATE, written only by refresh()."""
    return mark_safe(target.row_html if is_current(target, version) else render_cells(target))  # noqa: S308
