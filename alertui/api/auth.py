from datetime import timedelta

from django.utils import timezone
from knox.auth import TokenAuthentication

from alertui.api.models import ApiToken

# How stale `last_used_at` may get before a request writes it again: one write per token a
# minute, however busy a pipeline is.
LAST_USED_PRECISION = timedelta(minutes=1)


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <token>`; remembers when each token was last used."""

    def validate_user(self, auth_token: ApiToken):
        user, token = super().validate_user(auth_token)
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return user, token
