from django.apps import AppConfig


class TargetsConfig(AppConfig):
    name = "alertui.targets"
    label = "targets"
