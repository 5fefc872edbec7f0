from django.utils import timezone

from alertui import clusters
from alertui.accounts.roles import can_silence
from alertui.nav import counts
from alertui.sync import health
from alertui.sync.models import SourceStatus


def navigation(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    # One read of the status rows: the sources' health, and the snapshot's version that the
    # stored firing count must be of.
    rows = list(SourceStatus.objects.all())
    statuses = [s for s in rows if s.kind not in ("", health.SNAPSHOT_KIND)]
    snapshot = [s.version for s in rows if s.name == health.SNAPSHOT]
    successes = [s.last_success_at for s in statuses if s.last_success_at]
    numbers = counts.current(snapshot[0] if snapshot else None)
    return {
        "nav_can_silence": can_silence(request.user),
        # Pages name the cluster of each row only when there are several.
        "nav_clusters": clusters.names(),
        "nav_failing_sources": [s for s in statuses if s.failing_since],
        "nav_synced_at": min(successes) if successes else None,
        "nav_now": timezone.now(),
        "nav_active_alerts": numbers[counts.FIRING],
        "nav_failing_targets": numbers[counts.FAILING_TARGETS],
    }
