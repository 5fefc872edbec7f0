from django.contrib import admin

from alertui.scopes.models import Scope


@admin.register(Scope)
class ScopeAdmin(admin.ModelAdmin):
    """Scopes made here add to those of SCOPES_FILE (docs/scopes.md)."""

    list_display = ["name", "group", "matchers", "clusters"]
    list_filter = ["group"]
    search_fields = ["name", "matchers", "group__name"]
