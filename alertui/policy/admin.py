from django.contrib import admin

from alertui.policy.config import file_rules
from alertui.policy.models import PolicyRule


@admin.register(PolicyRule)
class PolicyRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "mode", "enabled", "scope", "clusters", "admins_exempt")
    list_filter = ("kind", "mode", "enabled")
    search_fields = ("name", "explanation", "scope")
    filter_horizontal = ("groups",)
    fieldsets = (
        (None, {"fields": ("name", "kind", "mode", "enabled", "explanation")}),
        ("Applies to", {"fields": ("scope", "clusters", "groups", "admins_exempt")}),
        ("Comment rule", {"fields": ("pattern",)}),
        ("Maximum duration rule", {"fields": ("max_duration",)}),
        (
            "Too broad rule",
            {
                "fields": (
                    "max_alerts",
                    "max_percent",
                    "whole_cluster",
                    "only_regex",
                    "min_matchers",
                )
            },
        ),
    )

    def changelist_view(self, request, extra_context=None):
        # The file's rules apply too; say so where admins look for the rules.
        shown = [f"{r.name} ({r.kind}, {r.mode}: {r.describe()})" for r in file_rules()]
        if shown:
            self.message_user(request, "Also in force, from POLICY_FILE: " + "; ".join(shown))
        return super().changelist_view(request, extra_context)
