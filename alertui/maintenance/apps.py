from django.apps import AppConfig


class MaintenanceConfig(AppConfig):
    name = "alertui.maintenance"
    label = "maintenance"
