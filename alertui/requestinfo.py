"""Who is asking, for the audit: the acting user, their address and a request id."""

import ipaddress
import uuid
from functools import cache

from django.conf import settings

from alertui.audit.models import AuditEvent
from alertui.silences.recorder import Actor


@cache
def _proxies(networks: tuple[str, ...]):
    return [ipaddress.ip_network(n, strict=False) for n in networks]


def _ip(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address(request) -> str | None:
    """The client's address: the peer, or, when the peer is one of FORWARDED_PROXIES (the
    ingress or load balancer), the nearest address in X-Forwarded-For that is not a proxy.

    Read from the right: entries left of the first untrusted hop can be anything a client
    chose to send."""
    peer = request.META.get("REMOTE_ADDR") or None
    proxies = _proxies(tuple(settings.FORWARDED_PROXIES))
    address = _ip(peer or "")
    if address is None or not any(address in n for n in proxies):
        return peer
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        hop_address = _ip(hop)
        if hop_address is None:
            break  # garbled: trust nothing further left
        address = hop_address
        if not any(hop_address in n for n in proxies):
            break
    return str(address)


def actor_for(request, source: str = AuditEvent.Source.BROWSER) -> Actor:
    request_id = request.META.get("HTTP_X_REQUEST_ID", "")[:64] or uuid.uuid4().hex
    return Actor(
        user=request.user,
        source=source,
        remote_addr=client_address(request),
        request_id=request_id,
    )
