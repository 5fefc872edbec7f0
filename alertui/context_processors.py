from django.utils import timezone

from alertui.accounts.roles import can_silence
from alertui.alerts.models import SourceStatus


def navigation(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    statuses = {s.name: s for s in SourceStatus.objects.all()}
    failing = [s for s in statuses.values() if s.failing_since]
    successes = [s.last_success_at for s in statuses.values() if s.last_success_at]
    return {
        "nav_can_silence": can_silence(request.user),
        "nav_failing_sources": failing,
        "nav_synced_at": min(successes) if successes else None,
        "nav_now": timezone.now(),
    }
