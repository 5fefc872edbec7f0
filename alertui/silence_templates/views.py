"""Silence templates: listed for everyone, made by silencers, changed by their owner (or an
admin), used from the new-silence form and the alerts page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from alertui.accounts.roles import can_silence, silencer_required
from alertui.silence_templates.forms import TemplateForm
from alertui.silence_templates.models import SilenceTemplate


@require_GET
def template_list(request):
    templates = SilenceTemplate.objects.select_related("owner")
    ctx = {
        "templates": [(t, t.editable_by(request.user)) for t in templates],
        "can_silence": can_silence(request.user),
    }
    return render(request, "silence_templates/list.html", ctx)


def _save(request, form, *, title: str, template=None):
    if form.is_valid():
        try:
            with transaction.atomic():
                saved = form.save(owner=request.user)
        except IntegrityError:
            form.add_error("name", "A template with this name exists; choose another.")
        else:
            messages.success(request, f"Template “{saved.name}” saved.")
            return redirect("silence_template_list")
    ctx = {"form": form, "title": title, "template": template}
    return render(request, "silence_templates/form.html", ctx, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@silencer_required
def template_new(request):
    form = TemplateForm(request.POST if request.method == "POST" else None)
    return _save(request, form, title="New silence template")


def _editable(request, template_id: int) -> SilenceTemplate:
    template = get_object_or_404(SilenceTemplate, pk=template_id)
    if not can_silence(request.user) or not template.editable_by(request.user):
        raise PermissionDenied("Only the template's owner or an admin can change it.")
    return template


@require_http_methods(["GET", "POST"])
def template_edit(request, template_id: int):
    template = _editable(request, template_id)
    data = request.POST if request.method == "POST" else None
    form = TemplateForm(data, instance=template)
    return _save(request, form, title=f"Edit template “{template.name}”", template=template)


@require_http_methods(["GET", "POST"])
def template_delete(request, template_id: int):
    template = _editable(request, template_id)
    if request.method == "POST":
        template.delete()
        messages.success(request, f"Template “{template.name}” deleted.")
        return redirect("silence_template_list")
    return render(request, "silence_templates/delete.html", {"template": template})
