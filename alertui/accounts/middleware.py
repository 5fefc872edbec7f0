"""Optional login from a header set by an SSO proxy (oauth2-proxy, Authelia, Pomerium...).

Off unless TRUSTED_HEADER names a header. The header is honoured only on requests whose peer
address is one of TRUSTED_HEADER_PROXIES (addresses or networks), so nobody can log in as
someone else by sending the header directly. Users are created on first sight with the role
in TRUSTED_HEADER_DEFAULT_ROLE (viewers unless set).
"""

import ipaddress

from django.conf import settings
from django.contrib.auth.middleware import RemoteUserMiddleware
from django.core.exceptions import ImproperlyConfigured


class TrustedHeaderMiddleware(RemoteUserMiddleware):
    force_logout_if_no_header = False

    def __init__(self, get_response):
        super().__init__(get_response)
        self.enabled = bool(settings.TRUSTED_HEADER)
        if self.enabled:
            self.header = "HTTP_" + settings.TRUSTED_HEADER.upper().replace("-", "_")
            try:
                self.proxies = [
                    ipaddress.ip_network(p, strict=False) for p in settings.TRUSTED_HEADER_PROXIES
                ]
            except ValueError as e:
                raise ImproperlyConfigured(f"TRUSTED_HEADER_PROXIES: {e}") from None

    def process_request(self, request):
        if not self.enabled or not self._from_proxy(request):
            return None
        return super().process_request(request)

    def _from_proxy(self, request) -> bool:
        try:
            peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        return any(peer in network for network in self.proxies)
