from django.apps import AppConfig


class StaleSilencesConfig(AppConfig):
    name = "alertui.stale_silences"
    label = "stale_silences"
    verbose_name = "stale silences"
