from django.contrib import admin

from alertui.silence_templates.models import SilenceTemplate


@admin.register(SilenceTemplate)
class SilenceTemplateAdmin(admin.ModelAdmin):
    """Listed, given to another owner or deleted here; edited on /silences/templates/, whose
    form checks every field (validation.py)."""

    list_display = ("name", "matchers_text", "duration", "owner", "updated_at")
    search_fields = ("name", "matchers_text", "comment")
    fields = ("name", "owner", "matchers_text", "duration", "comment", "created_at", "updated_at")
    readonly_fields = ("name", "matchers_text", "duration", "comment", "created_at", "updated_at")
