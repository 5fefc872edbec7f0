"""Run the stale-silence policy once, as the beat task does (without a worker, or from cron)."""

from django.core.management.base import BaseCommand

from alertui.stale_silences.policy import expire_stale


class Command(BaseCommand):
    help = "Expire the silences that muted no alert for SILENCE_STALE_EXPIRE_HOURS."

    def handle(self, *args, **options):
        report = expire_stale()
        if not report.enabled:
            self.stdout.write("SILENCE_STALE_EXPIRE_HOURS is 0: the policy is off.")
            return
        if report.busy:
            self.stdout.write("Another run is at work; nothing done.")
            return
        self.stdout.write(f"{len(report.expired)} expired, {len(report.failed)} failed.")
        for cluster in report.skipped_clusters:
            self.stderr.write(f"cluster {cluster} skipped: its alerts sync is not fresh")
        for failed in report.failed[:20]:
            self.stderr.write(f"not expired: {failed}")
