from django.contrib import admin

from alertui.api.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Administrators see and revoke tokens (say, of someone who left); only owners create."""

    list_display = ["name", "user", "token_key", "created", "expiry", "last_used_at"]
    list_filter = ["user"]
    search_fields = ["name", "user__username", "token_key"]
    readonly_fields = ["digest", "token_key", "user", "name", "created", "expiry", "last_used_at"]

    def has_add_permission(self, request):
        return False
