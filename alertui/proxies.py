"""Which peers are alertui's own proxies, and who the client is behind them.

Two lists name proxies: FORWARDED_PROXIES (the ingress or load balancers, which say in
X-Forwarded-For whom they forward for) and TRUSTED_HEADER_PROXIES (the SSO proxy, which says
who is logged in). Both are parsed at start by alertui.env.env_networks; this module is the one
place that compares a peer with them.
"""

import ipaddress
import logging

from django.conf import settings

from alertui.env import UNIX_SOCKET, IPNetwork

log = logging.getLogger(__name__)
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(text: str) -> IPAddress | None:
    """An address as a socket or an X-Forwarded-For hop gives it; None if it is not one.

    A dual-stack socket (gunicorn bound to `[::]`) reports an IPv4 peer as an IPv4-mapped IPv6
    address (`::ffff:10.0.0.5`): it is read as the IPv4 address it carries, so it matches the
    IPv4 networks people list, and the audit and the login lockout see one form."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address


def peer_address(request) -> IPAddress | None:
    """The address of whoever opened the connection to alertui."""
    return parse_address(request.META.get("REMOTE_ADDR") or "")


def is_trusted_proxy(address: IPAddress | None, networks: tuple[IPNetwork | str, ...]) -> bool:
    return address is not None and any(
        address in network for network in networks if network != UNIX_SOCKET
    )


def _from_unix_socket(request) -> bool:
    """True when the peer is the other end of a Unix socket: gunicorn then sets REMOTE_ADDR to
    "" (no TCP client connects that way; only a process on the machine that may open the
    socket file)."""
    return not (request.META.get("REMOTE_ADDR") or "").strip()


def client_address(request) -> str | None:
    """The client's address, for the audit and the login lockout (AXES_CLIENT_IP_CALLABLE):
    the peer, or, when the peer is one of FORWARDED_PROXIES, the nearest address in
    X-Forwarded-For that is not a proxy.

    Read from the right: each proxy appends the address it was reached from, so entries left
    of the first untrusted hop can be anything a client chose to send."""
    proxies = settings.FORWARDED_PROXIES
    address = peer_address(request)
    through_socket = UNIX_SOCKET in proxies and _from_unix_socket(request)
    if not (through_socket or is_trusted_proxy(address, proxies)):
        # Without an address (a Unix socket not listed as `unix`) every client would share
        # one lockout: say so once, in the log.
        if address is None and _from_unix_socket(request):
            _warn_unix_socket_once()
        return str(address) if address else None
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        hop_address = parse_address(hop)
        if hop_address is None:
            break  # garbled: trust nothing further left
        address = hop_address
        if not is_trusted_proxy(hop_address, proxies):
            break
    return str(address) if address else None


_warned = False


def _warn_unix_socket_once() -> None:
    global _warned
    if not _warned:
        _warned = True
        log.warning(
            "Requests come through a Unix socket, so alertui sees no client address: the "
            "audit records none, and wrong passwords from anyone lock a user out for everyone. "
            "Add unix to FORWARDED_PROXIES (the proxy in front must set X-Forwarded-For)."
        )
