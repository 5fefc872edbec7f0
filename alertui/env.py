"""Strict readers for configuration from the environment.

Each reader raises ImproperlyConfigured naming the variable, so a bad deployment fails at start
with a message that says what to fix. A `NAME_FILE` variable, when set, is read instead of `NAME`
(the way container secrets are mounted).
"""

import ipaddress
import os
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                return f.read().strip()
        except OSError as e:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {path!r}: {e.strerror}") from e
    return os.environ.get(name)


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None else value.strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None or not value.strip():
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, not {number}")
    return number


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_urls(name: str, default: str = "") -> list[str]:
    """Comma-separated http(s) base URLs, without trailing slashes."""
    from alertui.integrations.connection import UNENCODED_CREDENTIALS, credentials_left_in

    urls = []
    for item in env_list(name, default):
        if credentials_left_in(item):
            raise ImproperlyConfigured(f"{name}: {UNENCODED_CREDENTIALS}")
        parts = urlsplit(item)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            # Not the value itself: a webhook URL is a secret (Slack's path is its token).
            raise ImproperlyConfigured(
                f"{name}: an entry is not an http(s) URL (http:// or https:// and a host)"
            )
        urls.append(item.rstrip("/"))
    return urls


def refuse_credentials(name: str, url: str) -> str:
    """`url`, for a setting whose URL people see (a link on every page, links in notices): it
    may carry no credentials at all, encoded or not, since everyone who sees it would get them.
    The message does not repeat the URL."""
    from alertui.integrations.connection import credentials_left_in

    parts = urlsplit(url)
    if credentials_left_in(url) or "@" in parts.netloc:
        raise ImproperlyConfigured(
            f"{name} must not carry credentials (user:password@ or a token before @): "
            "everyone who sees its links would get them"
        )
    return url


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# In FORWARDED_PROXIES: the peer of a Unix socket (gunicorn `--bind unix:...` behind a proxy on
# the same machine), which has no address to list.
UNIX_SOCKET = "unix"


def parse_networks(
    name: str, items: Iterable[str], *, unix_socket: bool = False
) -> tuple[IPNetwork | str, ...]:
    """Addresses and networks (`10.0.0.5`, `10.1.0.0/16`, `fd00::/8`), for `name`'s message;
    with `unix_socket`, also the word `unix` (kept as UNIX_SOCKET).

    An IPv4-mapped IPv6 entry (`::ffff:10.0.0.5`) is kept as the IPv4 network it names:
    peers are compared in their IPv4 form (alertui.proxies.parse_address)."""
    networks = []
    for item in items:
        if unix_socket and item.lower() == UNIX_SOCKET:
            networks.append(UNIX_SOCKET)
            continue
        try:
            network = ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {item!r} is not an IP address or network"
            ) from None
        mapped = getattr(network.network_address, "ipv4_mapped", None)
        if mapped is not None and network.prefixlen >= 96:
            network = ipaddress.IPv4Network((mapped, network.prefixlen - 96))
        networks.append(network)
    return tuple(networks)


def env_networks(name: str, *, unix_socket: bool = False) -> tuple[IPNetwork | str, ...]:
    """Comma-separated IP addresses and networks (and `unix`, if allowed), parsed once."""
    return parse_networks(name, env_list(name), unix_socket=unix_socket)


def env_duration_seconds(name: str, default: str) -> int:
    """A duration such as `30s`, `5m`, `2h`, `30d` (see alertui.durations)."""
    from alertui.durations import DurationError, parse_duration

    raw = env_str(name, default)
    try:
        return int(parse_duration(raw).total_seconds())
    except DurationError as e:
        raise ImproperlyConfigured(f"{name}: {e}") from None


def env_connections(prefix: str, default: str = "") -> dict:
    """The servers in `{prefix}_URL` (comma-separated), each a Connection keyed by its URL, with
    the credentials and TLS options of `{prefix}_USERNAME` and `_PASSWORD`, or `_BEARER_TOKEN`
    (secrets: `_FILE` works), `_CA_FILE`, `_CLIENT_CERT_FILE` with `_CLIENT_KEY_FILE`, and
    `_INSECURE_SKIP_VERIFY`.

    The URLs are shown on pages, in /metrics and in errors the audit keeps, so they never carry
    credentials: `https://user:pass@host` becomes `https://host` with basic auth (deployments
    that wrote them this way keep working, and the password goes nowhere else).
    """
    from alertui.integrations.connection import (
        TLS,
        UNENCODED_CREDENTIALS,
        BasicAuth,
        Connection,
        credentials_left_in,
        redact,
    )

    username = env_str(f"{prefix}_USERNAME")
    password = env_str(f"{prefix}_PASSWORD")
    token = env_str(f"{prefix}_BEARER_TOKEN")
    if bool(username) != bool(password):
        raise ImproperlyConfigured(
            f"{prefix}_USERNAME and {prefix}_PASSWORD (or {prefix}_PASSWORD_FILE) go together"
        )
    if username and token:
        raise ImproperlyConfigured(
            f"{prefix}_USERNAME and {prefix}_BEARER_TOKEN: give basic auth or a token, not both"
        )
    files = {}
    for key, suffix in (
        ("ca_file", "CA_FILE"),
        ("cert_file", "CLIENT_CERT_FILE"),
        ("key_file", "CLIENT_KEY_FILE"),
    ):
        path = env_str(f"{prefix}_{suffix}")
        if path and not os.access(path, os.R_OK):
            raise ImproperlyConfigured(f"{prefix}_{suffix}: cannot read {path!r}")
        files[key] = path
    if bool(files["cert_file"]) != bool(files["key_file"]):
        raise ImproperlyConfigured(
            f"{prefix}_CLIENT_CERT_FILE and {prefix}_CLIENT_KEY_FILE go together"
        )
    options = {
        "basic_auth": BasicAuth(username, password) if username else None,
        "bearer_token": token,
        "tls": TLS(**files, insecure_skip_verify=env_bool(f"{prefix}_INSECURE_SKIP_VERIFY")),
    }
    connections = {}
    for item in env_list(f"{prefix}_URL", default):
        if credentials_left_in(item):
            raise ImproperlyConfigured(
                f"{prefix}_URL: {UNENCODED_CREDENTIALS}, or give them in {prefix}_USERNAME and "
                f"{prefix}_PASSWORD"
            )
        parts = urlsplit(item)
        if (parts.username is not None or parts.password is not None) and (username or token):
            raise ImproperlyConfigured(
                f"{prefix}_URL: {redact(item)!r} carries credentials and {prefix}_USERNAME or "
                f"{prefix}_BEARER_TOKEN gives them too; give them once"
            )
        try:
            connection = Connection.from_url(item, **options)
        except ValueError as e:
            raise ImproperlyConfigured(f"{prefix}_URL: {e}") from None
        connections[connection.url] = connection
    return connections
