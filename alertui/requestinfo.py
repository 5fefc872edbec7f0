"""Who is asking, for the audit: the acting user, their address and a request id."""

import uuid

from alertui.audit.models import AuditEvent
from alertui.silences.services import Actor


def client_address(request) -> str | None:
    # REMOTE_ADDR is the peer, never a header anybody can send. Behind an ingress that peer is
    # the ingress itself: reading X-Forwarded-For from configured proxies is still to do.
    return request.META.get("REMOTE_ADDR") or None


def actor_for(request, source: str = AuditEvent.Source.BROWSER) -> Actor:
    request_id = request.META.get("HTTP_X_REQUEST_ID", "")[:64] or uuid.uuid4().hex
    return Actor(
        user=request.user,
        source=source,
        remote_addr=client_address(request),
        request_id=request_id,
    )
