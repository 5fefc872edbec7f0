"""Run the maintenance job once, as the beat task does (without a worker, or from cron)."""

from django.core.management.base import BaseCommand

from alertui.maintenance.materialize import materialize


class Command(BaseCommand):
    help = "Make the silences of maintenance windows due within the horizon (24 h by default)."

    def handle(self, *args, **options):
        report = materialize()
        if report.busy:
            self.stdout.write("Another run is making the silences; nothing done.")
            return
        self.stdout.write(
            f"{len(report.created)} silence(s) made, {len(report.failed)} to retry, "
            f"{report.missed} occurrence(s) missed."
        )
        for failed in report.failed[:20]:
            self.stderr.write(f"not made yet: {failed}")
