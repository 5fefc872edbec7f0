"""Stand-in servers for what a real Alertmanager or Prometheus cannot be made to do on demand:
hang after taking a request, answer 500, sit behind a proxy that answers 502 or trickles, or
send an alert it would never make. Every other test talks to real processes."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


class HangingServer:
    """Accepts connections and reads what is sent but never answers (a wedged server or a
    black-holing proxy): requests to it end by the client's read timeout."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.received = b""
        self.held: list[socket.socket] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.held.append(conn)  # kept open, never answered
            conn.settimeout(0.5)
            try:
                self.received += conn.recv(65536)
            except OSError:
                pass

    def stop(self):
        self._stopping.set()
        self._thread.join(timeout=5)
        for conn in self.held:
            conn.close()
        self.sock.close()


class _QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _HttpStandIn:
    """An HTTP server on a free loopback port, answering from a thread until stop()."""

    def _serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=2)


class FailingServer(_HttpStandIn):
    """Answers every request with 500 and `message` as a JSON string, the way Alertmanager's
    API words its errors; `requests_seen` lists what it was asked."""

    def __init__(self, message: str = "internal error"):
        seen: list[str] = []

        class Handler(_QuietHandler):
            def _fail(self):
                seen.append(f"{self.command} {self.path}")
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                body = f'"{message}"'.encode()
                self.send_response(500)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = _fail

        self.requests_seen = seen
        self._serve(Handler)


class FixedAnswersServer(_HttpStandIn):
    """Answers GET of each path in `answers` (e.g. "/api/v2/alerts") with that fixed JSON, for
    lists a real Alertmanager never sends: it makes fingerprints and silence ids itself and
    refuses malformed alerts and silences, so only a stand-in can serve an empty silence id, a
    fingerprint with a slash or a time that does not parse. The body is JSON, so lone
    surrogates arrive as escapes, as a Go server could send."""

    def __init__(self, answers: dict[str, object]):
        bodies = {path: json.dumps(answer).encode() for path, answer in answers.items()}

        class Handler(_QuietHandler):
            def do_GET(self):
                body = bodies.get(self.path.split("?")[0])
                self.send_response(404 if body is None else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

        self._serve(Handler)


class ChangingAnswersServer(_HttpStandIn):
    """Like standins.FixedAnswersServer, but what it answers can be changed between syncs
    (the same URL: the targets are kept by their Prometheus URL)."""

    def __init__(self, answers: dict):
        self.answers = answers
        outer = self

        class Handler(_QuietHandler):
            def do_GET(self):
                found = outer.answers.get(self.path.split("?")[0])
                body = json.dumps(found).encode() if found is not None else b""
                self.send_response(404 if found is None else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._serve(Handler)


class FixedAlertsServer(FixedAnswersServer):
    """GET /api/v2/alerts answered with a fixed list (see FixedAnswersServer)."""

    def __init__(self, alerts: list):
        super().__init__({"/api/v2/alerts": alerts})


STAND_IN_LIMIT = 60  # seconds a trickling answer goes on at most, so a regression fails, not hangs


class FaultyProxy(_HttpStandIn):
    """A reverse proxy in front of a real Alertmanager or Prometheus that fails chosen requests
    the way a broken ingress or a wedged peer does, which the real server cannot be made to do:

    - "502": answers 502 Bad Gateway without forwarding the request;
    - "502 after forwarding": forwards it (so the server applies it), then answers 502;
    - "trickle": forwards it, then sends the answer's status and headers at once and its body
      one byte a second;
    - "trickle headers": forwards it, then sends the status line and trickles the headers;
    - "401": answers 401 without forwarding (an ingress checking a bearer token).

    `fault(method, path, headers)` picks the fault of each request (None: pass it through).
    Trickling stops after STAND_IN_LIMIT seconds, when the client goes away, or at stop().
    `requests_seen` lists "METHOD path" of each request.
    """

    def __init__(self, upstream: str, fault):
        seen: list[str] = []
        stopping = threading.Event()
        self.requests_seen = seen
        self._stopping = stopping

        class Handler(_QuietHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self):
                seen.append(f"{self.command} {self.path}")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                kind = fault(self.command, self.path.partition("?")[0], self.headers)
                if kind in ("502", "401"):
                    return self._send(int(kind), f"{kind} from the proxy\n".encode(), "text/plain")
                hop = {"host", "connection", "accept-encoding"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in hop}
                answer = requests.request(
                    self.command, upstream + self.path, data=body, headers=headers, timeout=10
                )
                if kind == "502 after forwarding":
                    return self._send(502, b"502 from the proxy\n", "text/plain")
                content_type = answer.headers.get("Content-Type", "application/json")
                # JSON may end in blanks: padded, the answer takes longer than the trickle lasts.
                padded = answer.content + b" " * STAND_IN_LIMIT
                if kind == "trickle":
                    return self._send(answer.status_code, padded, content_type, 1)
                if kind == "trickle headers":
                    head = (
                        f"X-Padding: {'.' * STAND_IN_LIMIT}\r\n"
                        f"Content-Type: {content_type}\r\n"
                        f"Content-Length: {len(answer.content)}\r\n\r\n"
                    ).encode()
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    return self._trickle(head + answer.content)
                self._send(answer.status_code, answer.content, content_type)

            def _send(self, status, body, content_type, trickle_from=None):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if trickle_from is None:
                    self.wfile.write(body)
                else:
                    self.wfile.write(body[:trickle_from])
                    self._trickle(body[trickle_from:])

            def _trickle(self, data: bytes):
                self.close_connection = True
                for i in range(min(len(data), STAND_IN_LIMIT)):
                    if stopping.wait(1):
                        return
                    try:
                        self.wfile.write(data[i : i + 1])
                    except OSError:
                        return  # the client gave up

            do_GET = do_POST = do_DELETE = _handle

        self._serve(Handler)
        self.server.block_on_close = False

    def stop(self):
        self._stopping.set()
        super().stop()
