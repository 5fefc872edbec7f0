from django.core.management.base import BaseCommand, CommandError

from alertui.alerts.sync import sync_alerts
from alertui.locks import LockUnavailable
from alertui.silences.sync import sync_silences
from alertui.targets.sync import sync_targets


class Command(BaseCommand):
    help = (
        "Sync silences, alerts and scrape targets once (what the Celery beat jobs run), "
        "without a worker."
    )

    def handle(self, *args, **options):
        try:
            silences = sync_silences()
            alerts = sync_alerts()
            targets = sync_targets()
        except LockUnavailable as e:
            raise CommandError(str(e)) from e
        if silences.skipped or alerts.skipped or targets.skipped:
            self.stdout.write("Another sync is running; skipped what it holds.")
        self.stdout.write(
            f"silences: {silences.seen} seen, {len(silences.recorded)} changes recorded"
            f"{f', {silences.deferred} left for the next run' if silences.deferred else ''}; "
            f"alerts: {alerts.current} current (+{alerts.added} ~{alerts.changed} "
            f"-{alerts.removed}); targets: {targets.failing} failing"
        )
        for line in silences.recorded:
            self.stdout.write(f"  {line}")
        errors = [e for e in (silences.error, alerts.error, *targets.errors) if e]
        if errors:
            raise CommandError("; ".join(errors))
