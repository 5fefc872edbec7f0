"""alertui's own /metrics, in Prometheus format, so Prometheus can watch alertui itself.

Values are read from the database at scrape time (a custom collector), so every web process
reports the same numbers, whatever process ran the sync or made the change.
"""

from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from alertui.alerts.models import Alert
from alertui.audit.models import AuditEvent
from alertui.sync.health import sources
from alertui.targets.models import FailingTarget


class AlertuiCollector:
    def collect(self):
        now = timezone.now()
        statuses = list(sources())
        up = GaugeMetricFamily(
            "alertui_source_up",
            "1 if the last sync of the source succeeded",
            labels=["cluster", "source"],
        )
        age = GaugeMetricFamily(
            "alertui_snapshot_age_seconds",
            "Seconds since the source's last successful sync",
            labels=["cluster", "source"],
        )
        duration = GaugeMetricFamily(
            "alertui_sync_duration_seconds",
            "Duration of the last sync run",
            labels=["cluster", "source"],
        )
        runs = CounterMetricFamily("alertui_sync_runs", "Sync runs", labels=["cluster", "source"])
        errors = CounterMetricFamily(
            "alertui_sync_errors", "Failed sync runs", labels=["cluster", "source"]
        )
        for s in statuses:
            # The cluster as a label of its own, the source as before: the kind, and a
            # Prometheus's URL.
            labels = [s.cluster, f"{s.kind} {s.url}" if s.url else s.kind]
            up.add_metric(labels, 0 if s.failing_since else 1)
            if s.last_success_at:
                age.add_metric(labels, (now - s.last_success_at).total_seconds())
            if s.last_duration is not None:
                duration.add_metric(labels, s.last_duration)
            runs.add_metric(labels, s.runs)
            errors.add_metric(labels, s.errors)
        yield from (up, age, duration, runs, errors)

        actions = CounterMetricFamily(
            "alertui_silence_actions",
            "Silence changes recorded in the audit history",
            labels=["action", "outcome", "source"],
        )
        for row in AuditEvent.objects.values("action", "outcome", "source").annotate(n=Count("id")):
            actions.add_metric([row["action"], row["outcome"], row["source"]], row["n"])
        yield actions

        alerts = GaugeMetricFamily("alertui_alerts", "Current alerts by state", labels=["state"])
        silenced = Alert.objects.filter(is_silenced=True).count()
        inhibited = Alert.objects.filter(is_silenced=False, is_inhibited=True).count()
        total = Alert.objects.count()
        alerts.add_metric(["active"], total - silenced - inhibited)
        alerts.add_metric(["silenced"], silenced)
        alerts.add_metric(["inhibited"], inhibited)
        yield alerts
        yield GaugeMetricFamily(
            "alertui_failing_targets", "Failing scrape targets", value=FailingTarget.objects.count()
        )
