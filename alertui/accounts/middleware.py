"""Optional login from a header set by an SSO proxy (oauth2-proxy, Authelia, Pomerium...).

Off unless TRUSTED_HEADER names a header. The header is honoured only on requests whose peer
address is one of TRUSTED_HEADER_PROXIES (addresses or networks), so nobody can log in as
someone else by sending the header directly. Users are created on first sight with the role
in TRUSTED_HEADER_DEFAULT_ROLE (viewers unless set).
"""

from django.conf import settings
from django.contrib.auth.middleware import RemoteUserMiddleware

from alertui.proxies import is_trusted_proxy, peer_address


class TrustedHeaderMiddleware(RemoteUserMiddleware):
    force_logout_if_no_header = False

    def __init__(self, get_response):
        super().__init__(get_response)
        self.enabled = bool(settings.TRUSTED_HEADER)
        if self.enabled:
            self.header = "HTTP_" + settings.TRUSTED_HEADER.upper().replace("-", "_")

    def process_request(self, request):
        if not self.enabled:
            return None
        if not is_trusted_proxy(peer_address(request), settings.TRUSTED_HEADER_PROXIES):
            return None
        return super().process_request(request)
