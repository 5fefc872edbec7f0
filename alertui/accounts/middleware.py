"""Optional login from a header set by an SSO proxy (oauth2-proxy, Authelia, Pomerium...).

Off unless TRUSTED_HEADER names a header. The header is honoured only on requests whose peer
address is one of TRUSTED_HEADER_PROXIES (addresses or networks), so nobody can log in as
someone else by sending the header directly. Users are created on first sight with the role
in TRUSTED_HEADER_DEFAULT_ROLE (viewers unless set).

A name alertui cannot store as it was meant (empty, too long for the user table, not UTF-8,
control or invisible formatting characters) is refused with a 403 that says why: never a user
created under a mangled name, nor a database error.
"""

import logging
import unicodedata
from typing import NoReturn

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.middleware import RemoteUserMiddleware
from django.core.exceptions import PermissionDenied

from alertui.proxies import is_trusted_proxy, peer_address

log = logging.getLogger(__name__)

# Control (NUL, newline, escape...), format (bidi overrides, zero-width), surrogates, and the
# line and paragraph separators: none belongs in a name shown in pages and the audit.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


class TrustedHeaderMiddleware(RemoteUserMiddleware):
    force_logout_if_no_header = False

    def __init__(self, get_response):
        super().__init__(get_response)
        self.enabled = bool(settings.TRUSTED_HEADER)
        if self.enabled:
            self.header = "HTTP_" + settings.TRUSTED_HEADER.upper().replace("-", "_")

    def process_request(self, request):
        if not self.enabled or self.header not in request.META:
            return None
        if not is_trusted_proxy(peer_address(request), settings.TRUSTED_HEADER_PROXIES):
            return None
        # Django's own login takes the name from request.META: give it the checked one.
        request.META[self.header] = self._username(request.META[self.header])
        return super().process_request(request)

    def _username(self, raw: str) -> str:
        """The user name the proxy sent, decoded as UTF-8, or PermissionDenied saying why not."""
        try:
            # WSGI hands header bytes over as ISO-8859-1 text (PEP 3333); proxies send UTF-8.
            name = raw.encode("iso-8859-1").decode("utf-8")
        except UnicodeError:
            self._refuse(raw, "is not valid UTF-8")
        if not name:
            self._refuse(raw, "is empty")
        max_length = get_user_model()._meta.get_field(get_user_model().USERNAME_FIELD).max_length
        if len(name) > max_length:
            self._refuse(raw, f"is longer than {max_length} characters")
        if any(unicodedata.category(c) in _REFUSED_CATEGORIES for c in name):
            self._refuse(raw, "contains control or invisible formatting characters")
        return name

    def _refuse(self, raw: str, why: str) -> NoReturn:
        log.warning(
            "Refused the user name in %s: it %s (%.200r)", settings.TRUSTED_HEADER, why, raw
        )
        raise PermissionDenied(
            f"The user name your sign-in proxy sent in {settings.TRUSTED_HEADER} {why}, so "
            "alertui cannot log you in. Ask an administrator to check the proxy's user names."
        )
