"""Who is asking, for the audit: the acting user, their address and a request id."""

import re
import uuid

from alertui.audit.models import AuditEvent
from alertui.proxies import client_address
from alertui.silences.recorder import Actor

__all__ = ["actor_for", "client_address", "request_id"]

# What a client may name its request: an id such as a proxy, a load balancer or a CI job sends
# (a UUID, "ci-run-42", "1a2b.3c"). The header is the client's to write and ends up in audit rows
# and the API: anything else (control characters, markup, spaces, a 10 kB string) is replaced.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id(request) -> str:
    """The client's X-Request-ID when it is a short, plain id; otherwise a new one."""
    sent = request.META.get("HTTP_X_REQUEST_ID", "")
    return sent if SAFE_REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex


def actor_for(request, source: str = AuditEvent.Source.BROWSER) -> Actor:
    return Actor(
        user=request.user,
        source=source,
        remote_addr=client_address(request),
        request_id=request_id(request),
    )
