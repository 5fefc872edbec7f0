from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "alertui.audit"
    label = "audit"
