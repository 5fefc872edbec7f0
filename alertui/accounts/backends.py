from django.conf import settings
from django.contrib.auth.backends import RemoteUserBackend
from django.contrib.auth.models import Group

from alertui.accounts.roles import SILENCERS, VIEWERS


class TrustedHeaderBackend(RemoteUserBackend):
    """Users named by the SSO proxy's header; new ones get the configured default role."""

    def configure_user(self, request, user, created=True):
        if created:
            role = settings.TRUSTED_HEADER_DEFAULT_ROLE
            group = Group.objects.filter(name=SILENCERS if role == "silencer" else VIEWERS)
            user.groups.add(*group)
        return user
