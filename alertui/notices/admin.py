from django.contrib import admin

from alertui.notices.models import Delivery, SilenceReminder


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Read-only: lets operators see which notices reached which webhook, and why not."""

    list_display = ["created_at", "kind", "silence_id", "destination", "status", "attempts"]
    list_filter = ["status", "kind", "channel", "destination"]
    search_fields = ["silence_id", "last_error"]
    date_hierarchy = "created_at"
    exclude = ["event", "reminder"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SilenceReminder)
class SilenceReminderAdmin(admin.ModelAdmin):
    list_display = ["created_at", "silence_id", "ends_at", "muted_alerts"]
    search_fields = ["silence_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
