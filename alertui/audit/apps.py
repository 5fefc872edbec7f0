from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "alertui.audit"
    label = "audit"

    def ready(self):
        from alertui.audit.append_only import reinstall_after_migrate

        post_migrate.connect(
            reinstall_after_migrate, sender=self, dispatch_uid="audit.reinstall_after_migrate"
        )
