from rest_framework.permissions import SAFE_METHODS, BasePermission

from alertui.accounts.roles import can_silence


class CanChangeSilences(BasePermission):
    """Everyone signed in reads; only silencers change silences (the same roles as the pages)."""

    message = "Only silencers can change silences."

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or can_silence(request.user)
