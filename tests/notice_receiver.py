"""A local webhook receiver for notice tests (Slack and generic webhooks): a real HTTP server
in a thread that records every request, and the settings that point alertui's notices at it."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

SLACK_PATH = "/services/T000/B000/slack-secret-token"
SITE = "https://alertui.example.com"


class Receiver:
    """A local webhook receiver: records each request's path, headers and JSON body, and
    answers with the given statuses in turn (then 200), as a flaky or broken webhook would."""

    def __init__(self, statuses=()):
        self.requests = []
        self.statuses = list(statuses)
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": json.loads(body)}
                    )
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                answer = b"ok" if status == 200 else b"no_service"
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def bodies(self, path):
        return [r["body"] for r in self.requests if r["path"] == path]

    def slack(self):
        return self.bodies(SLACK_PATH)

    def hook(self):
        return self.bodies("/hook")

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=2)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def notify(settings, receiver, redis_db):
    """Slack and one generic webhook, both on `receiver`; links point at SITE."""
    settings.SITE_URL = SITE
    settings.NOTIFY_SLACK_WEBHOOK_URL = receiver.url + SLACK_PATH
    settings.NOTIFY_WEBHOOK_URLS = [receiver.url + "/hook"]
    settings.NOTIFY_TIMEOUT = 2
    settings.NOTIFY_MAX_RETRIES = 3
    return settings


def slack_text(payload):
    return "\n".join(
        [payload["text"]]
        + [b["text"]["text"] for b in payload["blocks"] if "text" in b]
        + [e["text"] for b in payload["blocks"] for e in b.get("elements", [])]
    )
