from django.core.management.base import BaseCommand, CommandError

from alertui.alerts.sync import sync_alerts
from alertui.locks import LockUnavailable
from alertui.silences.sync import sync_silences


class Command(BaseCommand):
    help = "Sync silences and alerts from Alertmanager once (what the Celery beat jobs run)."

    def handle(self, *args, **options):
        try:
            silences = sync_silences()
            alerts = sync_alerts()
        except LockUnavailable as e:
            raise CommandError(str(e)) from e
        if silences.skipped or alerts.skipped:
            self.stdout.write("Another sync is running; skipped what it holds.")
        if silences.error or alerts.error:
            raise CommandError(f"Alertmanager: {silences.error or alerts.error}")
        self.stdout.write(
            f"silences: {silences.seen} seen, {len(silences.recorded)} changes recorded"
            f"{f', {silences.deferred} left for the next run' if silences.deferred else ''}; "
            f"alerts: {alerts.current} current (+{alerts.added} ~{alerts.changed} "
            f"-{alerts.removed})"
        )
        for line in silences.recorded:
            self.stdout.write(f"  {line}")
