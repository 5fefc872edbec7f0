"""Two roles: viewers read everything; silencers also create, edit, extend and expire silences.

Roles are Django groups holding the `silences.manage_silences` permission (silencers) or not
(viewers), so they are managed in the admin like any group. Superusers can do everything. A
group given a scope (alertui.scopes) lets its members change the silences inside it only.
"""

from functools import wraps

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied

VIEWERS = "viewers"
SILENCERS = "silencers"
MANAGE_SILENCES = "silences.manage_silences"


def can_silence(user) -> bool:
    """May they change some silences: a silencer, or a member of a group with a scope (who
    changes only the silences inside it: alertui.scopes)."""
    if not user.is_authenticated:
        return False
    if user.has_perm(MANAGE_SILENCES):
        return True
    from alertui.scopes.access import access_for

    return access_for(user).can_silence


def silencer_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not can_silence(request.user):
            raise PermissionDenied("Only silencers can change silences.")
        return view(request, *args, **kwargs)

    return wrapper


def ensure_roles(**kwargs) -> None:
    """Create the two groups (run after every migrate)."""
    Group.objects.get_or_create(name=VIEWERS)
    silencers, _ = Group.objects.get_or_create(name=SILENCERS)
    app_label, codename = MANAGE_SILENCES.split(".")
    permission = Permission.objects.filter(
        content_type__app_label=app_label, codename=codename
    ).first()
    if permission:
        silencers.permissions.add(permission)
