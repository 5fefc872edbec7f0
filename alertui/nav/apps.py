from django.apps import AppConfig


class NavConfig(AppConfig):
    name = "alertui.nav"
    label = "nav"
