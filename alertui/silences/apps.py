from django.apps import AppConfig


class SilencesConfig(AppConfig):
    name = "alertui.silences"
    label = "silences"
