from django.core.management.base import BaseCommand

from alertui.sync.retention import prune_history


class Command(BaseCommand):
    help = (
        "Delete alert and target history and notice deliveries older than HISTORY_RETENTION "
        "(never the audit)."
    )

    def handle(self, *args, **options):
        pruned = prune_history()
        self.stdout.write(
            f"Deleted {pruned['alert_history']} alert and {pruned['target_history']} target "
            f"history rows, {pruned['notice_deliveries']} notice deliveries."
        )
