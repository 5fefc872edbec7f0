from django.apps import AppConfig
from django.db.models.signals import post_save


class NoticesConfig(AppConfig):
    name = "alertui.notices"
    label = "notices"
    verbose_name = "Notices"

    def ready(self):
        from alertui.audit.models import AuditEvent
        from alertui.maintenance.models import WindowChange
        from alertui.notices.signals import audit_event_saved, window_change_saved

        post_save.connect(
            audit_event_saved, sender=AuditEvent, dispatch_uid="notices.audit_event_saved"
        )
        post_save.connect(
            window_change_saved, sender=WindowChange, dispatch_uid="notices.window_change_saved"
        )
