from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alertui.alerts"
    label = "alerts"
