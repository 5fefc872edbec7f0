from django.apps import AppConfig


class AcksConfig(AppConfig):
    name = "alertui.acks"
    label = "acks"
    verbose_name = "Acknowledgements"
