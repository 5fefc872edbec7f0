from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "alertui.api"
    label = "api"
    verbose_name = "API"

    def ready(self):
        from alertui.api import schema  # noqa: F401  (registers the token scheme)
