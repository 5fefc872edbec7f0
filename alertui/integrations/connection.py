"""How alertui reaches one Alertmanager or Prometheus server: its URL, credentials and TLS.

The URL never carries credentials: it is shown on pages, in /metrics and in error messages
that the audit keeps. The fields follow Prometheus's `http_config` (basic_auth, authorization,
tls_config), so a file listing servers maps onto a Connection with `Connection.from_config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit


@dataclass(frozen=True)
class BasicAuth:
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class TLS:
    ca_file: str = ""  # PEM bundle to verify the server with; empty: the system's
    cert_file: str = ""  # client certificate (PEM), with key_file
    key_file: str = ""
    insecure_skip_verify: bool = False  # labs only: accept any server certificate


@dataclass(frozen=True)
class Connection:
    url: str
    basic_auth: BasicAuth | None = None
    bearer_token: str = field(default="", repr=False)
    tls: TLS = TLS()

    def __post_init__(self):
        parts = urlsplit(self.url)
        if parts.query or parts.fragment:
            # Nothing could be appended to such a base URL, and a token in its query would be
            # shown wherever the URL is (this message included).
            raise ValueError(
                "the URL must not have a query string or fragment (give a token in "
                "_BEARER_TOKEN, or basic auth in _USERNAME and _PASSWORD)"
            )
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{redact(self.url)!r} is not an http(s) URL")
        if parts.username is not None or parts.password is not None:
            raise ValueError("the URL must not carry credentials")
        if self.basic_auth and self.bearer_token:
            raise ValueError("give basic auth or a bearer token, not both")
        if self.basic_auth and not (self.basic_auth.username and self.basic_auth.password):
            raise ValueError("basic auth needs a username and a password")
        if bool(self.tls.cert_file) != bool(self.tls.key_file):
            raise ValueError("a client certificate needs its key, and a key its certificate")

    @classmethod
    def from_url(cls, url: str, **options) -> Connection:
        """A connection to `url`; credentials in it (`https://user:pass@host`) become basic
        auth and leave the URL."""
        if credentials_left_in(url.strip()):
            raise ValueError(UNENCODED_CREDENTIALS)
        parts = urlsplit(url.strip())
        netloc = parts.netloc.rpartition("@")[2]
        clean = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), parts.query, ""))
        if parts.username is None and parts.password is None:
            return cls(clean, **options)
        if options.pop("basic_auth", None) or options.pop("bearer_token", None):
            raise ValueError("credentials are given both in the URL and separately")
        auth = BasicAuth(unquote(parts.username or ""), unquote(parts.password or ""))
        return cls(clean, basic_auth=auth, **options)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Connection:
        """From Prometheus-style YAML: `url`, `basic_auth` (username, password or
        password_file), `authorization` (credentials or credentials_file, type Bearer) and
        `tls_config` (ca_file, cert_file, key_file, insecure_skip_verify)."""
        config = dict(config)
        url = str(config.pop("url", ""))
        basic = _section(config.pop("basic_auth", None), {"username", "password", "password_file"})
        bearer = _section(
            config.pop("authorization", None), {"type", "credentials", "credentials_file"}
        )
        tls = _section(
            config.pop("tls_config", None),
            {"ca_file", "cert_file", "key_file", "insecure_skip_verify"},
        )
        if config:
            raise ValueError(f"unknown keys: {', '.join(sorted(config))}")
        if str(bearer.get("type", "Bearer")) != "Bearer":
            raise ValueError("authorization: only type Bearer is supported")
        for name in ("ca_file", "cert_file", "key_file"):
            if tls.get(name):
                _readable(str(tls[name]))
        return cls.from_url(
            url,
            basic_auth=BasicAuth(str(basic.get("username", "")), _secret(basic, "password"))
            if basic
            else None,
            bearer_token=_secret(bearer, "credentials"),
            tls=TLS(
                ca_file=str(tls.get("ca_file") or ""),
                cert_file=str(tls.get("cert_file") or ""),
                key_file=str(tls.get("key_file") or ""),
                insecure_skip_verify=tls.get("insecure_skip_verify") is True,
            ),
        )


UNENCODED_CREDENTIALS = (
    "a URL carries credentials that end its host part early (a / ? or # in them): "
    "percent-encode them (/ as %2F, ? as %3F, # as %23, @ as %40)"
)


def credentials_left_in(url: str) -> bool:
    """True when `url` seems to carry credentials that cannot be taken out of it: a / ? or #
    in an unencoded password ends the host part early (`https://user:pa/ss@host` has the host
    `user`, the port `pa` and the path `/ss@host`), so the URL kept whole would carry them."""
    parts = urlsplit(url)
    try:
        _ = parts.port  # a port that is not a number: part of a password
    except ValueError:
        return True
    after_host = url.partition("://")[2][len(parts.netloc) :]
    return "@" in after_host and "@" not in parts.netloc


def redact(url: str) -> str:
    """`url` with any credentials in it replaced by ***, for messages."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    if "@" not in authority:
        return url
    return f"{scheme}://***@{authority.rpartition('@')[2]}{slash}{tail}"


def _section(value, keys: set[str]) -> dict:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"expected a mapping with {', '.join(sorted(keys))}")
    unknown = set(value) - keys
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
    return dict(value)


def _secret(section: dict, name: str) -> str:
    """`name` itself, or the content of the file `name_file` names (a mounted secret)."""
    if section.get(f"{name}_file"):
        return _readable(str(section[f"{name}_file"])).read_text(encoding="utf-8").strip()
    return str(section.get(name) or "")


def _readable(path: str) -> Path:
    try:
        with open(path, "rb"):
            return Path(path)
    except OSError as e:
        raise ValueError(f"cannot read {path!r}: {e.strerror}") from None
