"""Bounded HTTP calls to one Alertmanager or Prometheus server (a Connection).

`Transport.call` bounds the whole call, not each socket read: a deadline covers connecting,
sending and reading the whole answer (a peer that trickles a byte a second is cut off when it
passes), and the answer may not exceed `max_bytes`. A `TransportError` says whether the peer
received the whole request (`sent`), which decides whether a change may have been applied.
"""

from __future__ import annotations

import contextvars
import re
import socket
import threading
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from alertui.integrations.connection import Connection

USER_AGENT = "alertui"
CHUNK_BYTES = 64 * 1024
# An answer larger than this is refused. An alert as kube-prometheus-stack's rules make it takes
# about 0.9 kB of JSON in Alertmanager's answer (measured on 0.25), so 30,000 alerts from one
# peer take about 28 MB: this leaves room for annotations three times as long, and for the
# targets of a large Prometheus.
DEFAULT_MAX_RESPONSE_BYTES = 100_000_000


# -- the bounded call ------------------------------------------------------------------------


class TransportError(Exception):
    """No whole answer came. `reason` is short and has no URL; `sent` is True when the peer
    received the whole request, so a change may have been applied."""

    def __init__(self, reason: str, *, sent: bool):
        super().__init__(reason)
        self.reason = reason
        self.sent = sent


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def access_refused(self) -> str:
        """What to say of a 401 or 403 (the server or a proxy refused our credentials)."""
        if self.status not in (401, 403):
            return ""
        return f"access refused ({self.status} {self.reason}): check the credentials alertui uses"


class Transport:
    """Calls to one server, each bounded by `deadline` seconds and `max_bytes` of answer."""

    def __init__(
        self,
        connection: Connection,
        *,
        deadline: float,
        connect_timeout: float,
        max_bytes: int,
    ):
        self.connection = connection
        self.deadline = deadline
        self.connect_timeout = min(connect_timeout, deadline)
        self.max_bytes = max_bytes
        self.session = watched_session()
        self.session.headers["User-Agent"] = USER_AGENT
        if connection.basic_auth:
            self.session.auth = (connection.basic_auth.username, connection.basic_auth.password)
        elif connection.bearer_token:
            self.session.headers["Authorization"] = f"Bearer {connection.bearer_token}"
        tls = connection.tls
        # Given with each request: requests lets REQUESTS_CA_BUNDLE override a session's verify.
        self._tls = {
            "verify": False if tls.insecure_skip_verify else (tls.ca_file or True),
            "cert": (tls.cert_file, tls.key_file) if tls.cert_file else None,
        }

    def call(self, method: str, path: str, **kwargs) -> Answer:
        """One request; `kwargs` go to requests (params, json). Raises TransportError."""
        url = f"{self.connection.url}{path}"
        with deadline(self.deadline) as watch:
            try:
                response = self.session.request(
                    method,
                    url,
                    timeout=(self.connect_timeout, self.deadline),
                    stream=True,
                    **self._tls,
                    **kwargs,
                )
            except requests.RequestException as e:
                raise self._failure(e, watch, answered=False) from None
            with response:
                try:
                    body = self._body(response)
                except requests.RequestException as e:
                    raise self._failure(e, watch, answered=True) from None
            if watch.expired:
                # Cut off while reading headers, or a body sent until the connection closes:
                # what arrived looks whole but is not.
                raise self._failure(None, watch, answered=True)
        return Answer(response.status_code, response.reason or "", body)

    def _body(self, response: requests.Response) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise self._too_large()
        body = bytearray()
        for chunk in response.iter_content(CHUNK_BYTES):
            body += chunk
            if len(body) > self.max_bytes:
                raise self._too_large()
        return bytes(body)

    def _too_large(self) -> TransportError:
        return TransportError(
            f"answer larger than the limit of {self.max_bytes / 1e6:g} MB", sent=True
        )

    def _failure(self, error: Exception | None, watch: _Watch, *, answered: bool) -> TransportError:
        if watch.expired or isinstance(error, requests.ReadTimeout):
            what = "whole answer" if answered else "answer"
            return TransportError(f"no {what} within {self.deadline:g}s", sent=watch.sent)
        if isinstance(error, requests.exceptions.SSLError):
            # With TLS 1.3 a refused client certificate shows only after the request went out.
            return TransportError(f"TLS: {_tls_reason(error)}", sent=watch.sent)
        if not watch.sent:
            return TransportError(f"cannot connect ({_short_reason(error)})", sent=False)
        if answered:
            return TransportError("connection dropped during the answer", sent=True)
        return TransportError(f"connection dropped ({_short_reason(error)})", sent=True)


def _short_reason(error: Exception) -> str:
    text = str(error)
    for marker in ("Connection refused", "timed out", "Name or service not known"):
        if marker in text:
            return marker.lower()
    return text[:200]


def _tls_reason(error: Exception) -> str:
    # "... [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local
    # issuer certificate (_ssl.c:1006) ..." -> what is between the brackets and the file.
    found = re.search(r"\[SSL: \w+\] ([^(]+)", str(error))
    return found[1].strip() if found else _short_reason(error)


def watched_session() -> requests.Session:
    """A requests session whose calls made inside `with deadline(seconds):` end when the
    deadline passes, whatever they are doing (for other HTTP calls than Transport's)."""
    session = requests.Session()
    for prefix in ("http://", "https://"):
        session.mount(prefix, _WatchedAdapter())
    return session


def deadline(seconds: float) -> _Watch:
    """A context manager; its `expired` says whether the deadline cut the calls off."""
    return _Watch(seconds)


# -- the watch that enforces the deadline ----------------------------------------------------
# A socket read timeout bounds one recv(), so a peer sending a byte a second never trips it.
# The watch shuts the call's sockets down when the deadline passes, which ends whatever read or
# write is blocked on them; the connection classes below hand it every socket they use.

_CURRENT_WATCH: contextvars.ContextVar[_Watch | None] = contextvars.ContextVar(
    "alertui_http_watch", default=None
)


class _Watch:
    def __init__(self, seconds: float):
        self.expired = False
        self.sent = False  # the peer received the whole request
        self._sockets: list[socket.socket] = []
        self._done = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Watch:
        self._token = _CURRENT_WATCH.set(self)
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()
        with self._lock:
            self._done = True
            self._sockets.clear()
        _CURRENT_WATCH.reset(self._token)

    def attach(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                _shut(sock)
            elif not self._done:
                self._sockets.append(sock)

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


class _WatchedConnection:
    """Hands each socket to the current call's watch, and tells it when the request is out."""

    def _new_conn(self):
        sock = super()._new_conn()
        watch = _CURRENT_WATCH.get()
        if watch is not None:
            watch.attach(sock)
        return sock

    def request(self, *args, **kwargs):
        watch = _CURRENT_WATCH.get()
        if watch is not None and self.sock is not None:
            watch.attach(self.sock)  # a kept-alive connection, made during an earlier call
        super().request(*args, **kwargs)
        if watch is not None:
            watch.sent = True


class _HTTPConnection(_WatchedConnection, HTTPConnection):
    pass


class _HTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy, **kwargs):
        manager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS has its own connection classes
            manager.pool_classes_by_scheme = _POOLS
        return manager
