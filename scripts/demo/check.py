"""Check a running demo as its user would: log in, see the demo alerts, open every page.

Usage (from the repository root, with the demo running): .venv/bin/python scripts/demo/check.py
Reads the login and ports from the demo's state dir (ALERTUI_STATE_DIR, default .demo) and the
environment (ALERTUI_PORT). Prints one line per page; exits 1 on the first page that fails.
Used by scripts/check-fresh-machine.sh.
"""

import os
import sys
from pathlib import Path

import requests

TIMEOUT = 10  # seconds per request
STATE = Path(os.environ.get("ALERTUI_STATE_DIR", ".demo"))
BASE = f"http://127.0.0.1:{os.environ.get('ALERTUI_PORT', '8000')}"
# Page, and a text it shows once the demo's data is there.
PAGES = [
    ("/", ""),
    ("/alerts/", "AlwaysFiring"),
    ("/targets/", "kube-scheduler"),
    ("/silences/", ""),
    ("/silences/new/", ""),
    ("/audit/", ""),
    ("/maintenance/", "Sunday disk cleanup"),
    ("/maintenance/history/", "created"),
    ("/silences/templates/", ""),
    ("/account/tokens/", ""),
    ("/api/v1/alerts/", "AlwaysFiring"),
    ("/api/v1/schema/", "openapi"),
]


def fail(message: str) -> None:
    print(f"demo check failed: {message}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    password = (STATE / "oncall-password").read_text().strip()
    session = requests.Session()
    login = session.get(f"{BASE}/accounts/login/", timeout=TIMEOUT)
    if login.status_code != 200 or "csrftoken" not in session.cookies:
        fail(f"GET /accounts/login/: {login.status_code}")
    answer = session.post(
        f"{BASE}/accounts/login/",
        data={"username": "oncall", "password": password},
        headers={"X-CSRFToken": session.cookies["csrftoken"], "Referer": f"{BASE}/"},
        timeout=TIMEOUT,
    )
    if answer.status_code != 200 or "sessionid" not in session.cookies:
        fail(f"login as oncall: {answer.status_code} (still on {answer.url})")
    print("logged in as oncall")
    for path, text in PAGES:
        page = session.get(f"{BASE}{path}", timeout=TIMEOUT)
        if page.status_code != 200:
            fail(f"GET {path}: {page.status_code}")
        if text not in page.text:
            fail(f"GET {path}: 200 but without {text!r}")
        print(f"GET {path}: 200" + (f", shows {text}" if text else ""))


if __name__ == "__main__":
    main()
