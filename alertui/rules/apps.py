from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "alertui.rules"
    label = "rules"
