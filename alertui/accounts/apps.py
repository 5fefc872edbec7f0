from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "alertui.accounts"
    label = "accounts"

    def ready(self):
        from alertui import checks
        from alertui.accounts.roles import ensure_roles

        checks.register()

        post_migrate.connect(ensure_roles, dispatch_uid="alertui.ensure_roles")
