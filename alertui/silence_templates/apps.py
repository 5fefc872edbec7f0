from django.apps import AppConfig


class SilenceTemplatesConfig(AppConfig):
    name = "alertui.silence_templates"
    label = "silence_templates"
    verbose_name = "silence templates"
