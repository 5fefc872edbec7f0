"""A template filling the new-silence form: `/silences/new/?template=<id>`."""

from __future__ import annotations

from alertui.silence_templates.models import SilenceTemplate


def fill_from_template(params, initial: dict, rows: list, notices: list) -> tuple[list, str]:
    """The form's initial values and matcher rows with the template `params["template"]`
    applied: its matchers first (then any the link added), its duration and comment unless the
    link gave its own. Returns the rows and the template's name ("" when none was used)."""
    raw = params.get("template", "")[:18]
    if not raw:
        return rows, ""
    template = (
        SilenceTemplate.objects.filter(pk=int(raw)).first()
        if raw.isascii() and raw.isdigit()
        else None
    )
    if template is None:
        notices.append("That silence template no longer exists; fill in the form yourself.")
        return rows, ""
    if not params.get("duration"):
        initial["duration"] = template.duration
    if not params.get("comment"):
        initial["comment"] = template.comment
    return [tuple(m) for m in template.matchers] + list(rows), template.name
