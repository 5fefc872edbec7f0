from django.contrib import admin

from alertui.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit history is append-only."""

    list_display = ["at", "actor_name", "action", "outcome", "source", "silence_id"]
    list_filter = ["action", "outcome", "source"]
    search_fields = ["actor_name", "silence_id", "matchers_text", "comment"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
