from django.utils import timezone

from alertui import clusters
from alertui.accounts.roles import can_silence
from alertui.alerts.models import Alert
from alertui.sync.health import sources


def navigation(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    from alertui.targets.models import FailingTarget

    statuses = list(sources())
    successes = [s.last_success_at for s in statuses if s.last_success_at]
    return {
        "nav_can_silence": can_silence(request.user),
        # Pages name the cluster of each row only when there are several.
        "nav_clusters": clusters.names(),
        "nav_failing_sources": [s for s in statuses if s.failing_since],
        "nav_synced_at": min(successes) if successes else None,
        "nav_now": timezone.now(),
        "nav_active_alerts": Alert.objects.filter(is_silenced=False, is_inhibited=False).count(),
        "nav_failing_targets": FailingTarget.objects.count(),
    }
