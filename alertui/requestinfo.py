"""Who is asking, for the audit: the acting user, their address and a request id."""

import uuid

from alertui.audit.models import AuditEvent
from alertui.proxies import client_address
from alertui.silences.recorder import Actor

__all__ = ["actor_for", "client_address"]


def actor_for(request, source: str = AuditEvent.Source.BROWSER) -> Actor:
    request_id = request.META.get("HTTP_X_REQUEST_ID", "")[:64] or uuid.uuid4().hex
    return Actor(
        user=request.user,
        source=source,
        remote_addr=client_address(request),
        request_id=request_id,
    )
