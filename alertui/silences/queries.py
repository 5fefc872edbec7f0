from django.db.models import Q
from django.utils import timezone

from alertui.silences.models import Silence

STATES = ("active", "pending", "expired")


def filter_silences(state: str, query: str):
    """Silences in a state ("all" for any) whose matchers, creator, comment or id hold every
    word of `query`: the silence page's filter, shared with the API."""
    now = timezone.now()
    silences = Silence.objects.all()
    if state == "active":
        silences = silences.filter(starts_at__lte=now, ends_at__gt=now)
    elif state == "pending":
        silences = silences.filter(starts_at__gt=now)
    elif state == "expired":
        silences = silences.filter(ends_at__lte=now).order_by("-ends_at")
    for word in query.split():
        silences = silences.filter(
            Q(matchers_text__icontains=word)
            | Q(created_by__icontains=word)
            | Q(comment__icontains=word)
            | Q(id__istartswith=word)
        )
    return silences
