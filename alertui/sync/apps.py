from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "alertui.sync"
    label = "sync"
