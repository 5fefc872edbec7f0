from django.contrib import admin

from alertui.silence_templates.models import SilenceTemplate


@admin.register(SilenceTemplate)
class SilenceTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "matchers_text", "duration", "owner", "updated_at")
    search_fields = ("name", "matchers_text", "comment")
    # Matchers are checked by the templates' own form (validation.py): edit them there.
    readonly_fields = ("matchers", "matchers_text", "created_at", "updated_at")
    fields = ("name", "owner", "matchers_text", "duration", "comment", "created_at", "updated_at")
