from django.apps import AppConfig


class ScopesConfig(AppConfig):
    name = "alertui.scopes"
    verbose_name = "Silence scopes"
