"""Stand-in servers for what a real Alertmanager or Prometheus cannot be made to do on demand:
hang after taking a request, answer 500, or send an alert it would never make. Every other test
talks to real processes."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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


class FixedAlertsServer(_HttpStandIn):
    """Answers GET /api/v2/alerts with a fixed list, for alert lists a real Alertmanager never
    sends: it makes fingerprints and silence ids itself and refuses malformed alerts, so only a
    stand-in can serve an empty silence id, a fingerprint with a slash or a time that does not
    parse. The body is JSON, so lone surrogates arrive as escapes, as a Go server could send."""

    def __init__(self, alerts: list):
        body = json.dumps(alerts).encode()

        class Handler(_QuietHandler):
            def do_GET(self):
                found = self.path.split("?")[0] == "/api/v2/alerts"
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body) if found else 0))
                self.end_headers()
                if found:
                    self.wfile.write(body)

        self._serve(Handler)
