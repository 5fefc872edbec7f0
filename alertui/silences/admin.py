from django.contrib import admin

from alertui.silences.models import Silence


@admin.register(Silence)
class SilenceAdmin(admin.ModelAdmin):
    """A mirror of Alertmanager: change silences through alertui's pages, never here."""

    list_display = ["id", "matchers_text", "created_by", "starts_at", "ends_at", "state"]
    search_fields = ["id", "matchers_text", "created_by", "comment"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
