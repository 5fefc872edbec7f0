from django.core.management.base import BaseCommand, CommandError

from alertui import clusters
from alertui.locks import LockUnavailable
from alertui.sync import registry
from alertui.sync.runs import run_all


class Command(BaseCommand):
    help = (
        "Sync silences, alerts and scrape targets of every cluster once, and extend or end its "
        "acknowledgements (what the Celery beat jobs run), without a worker. --cluster and "
        "--kind choose (each may be repeated)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cluster", action="append", choices=clusters.names())
        parser.add_argument("--kind", action="append", choices=registry.NAMES)

    def handle(self, *args, **options):
        try:
            results = run_all(options["kind"], options["cluster"])
        except LockUnavailable as e:
            raise CommandError(str(e)) from e
        several = len(clusters.names()) > 1
        failures = []
        for kind, cluster, result in results:
            where = f"{cluster} " if several else ""
            if result.skipped:
                self.stdout.write(f"{where}{kind}: another sync is running; skipped.")
                continue
            self.stdout.write(f"{where}{kind}: {result.summary()}")
            failures += [f"{where}{kind}: {f}" if several else f for f in result.failures()]
        if failures:
            raise CommandError("; ".join(failures))
