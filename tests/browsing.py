"""The browser tests' shared set-up, a pytest plugin (tests/conftest.py lists it): Debian's
Chromium driven by Playwright against `live_server`, a page that records console errors, and
alerts firing in the shared Alertmanager 0.25.

The live server runs in the test's process, so the `settings` fixture points it at the test
Alertmanager; with django_db(transaction=True) its thread sees the rows the test writes.
Playwright's sync API runs an event loop in this thread, which makes Django refuse ORM calls
here unless DJANGO_ALLOW_ASYNC_UNSAFE is set (the `async_unsafe_allowed` fixture does).
Each main step leaves a screenshot in the test's tmp_path, for looking at a failure.
"""

import re
import time
from contextlib import contextmanager
from datetime import datetime

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from tests.servers import HTTP_TIMEOUT, make_alert

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WAIT = 10_000  # ms: the longest any page, htmx swap or redirect may take
PASSWORD = "correct horse battery staple"
HOSTILE_SUMMARY = 'Error rate high <img src=x onerror=alert(1)> "quoted" & more'


class Browsing:
    """One browser page plus what it reported: console errors and uncaught exceptions."""

    def __init__(self, page, shots):
        self.page = page
        self.shots = shots
        self.console_errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.console_errors.append(f"uncaught: {exc}"))
        page.on("dialog", self._dialog)

    def _console(self, message):
        if message.type == "error":
            self.console_errors.append(f"{message.text} at {message.location}")

    def _dialog(self, dialog):
        # An alert() would mean markup from an alert annotation ran as script.
        self.console_errors.append(f"unexpected {dialog.type} dialog: {dialog.message}")
        dialog.dismiss()

    def unexpected_errors(self, *allowed: str) -> list[str]:
        """Console errors but the known ones: base.html links no icon, so Chromium's own
        request for /favicon.ico gets a 404 on the first page (reported; not the test's to fix).
        """
        allowed = (*allowed, "/favicon.ico'")
        return [e for e in self.console_errors if not any(a in e for a in allowed)]

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)


@pytest.fixture
def async_unsafe_allowed(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def firing(settings, alertmanager_025, redis_db, tag):
    """Two alerts labelled test=<tag> in Alertmanager 0.25 and in alertui's alert snapshot."""
    from alertui.alerts.models import Alert
    from alertui.alerts.sync import sync_alerts

    settings.ALERTMANAGER_URLS = [alertmanager_025.url]
    settings.ALERTMANAGER_EXTERNAL_URL = alertmanager_025.url
    alertmanager_025.push_alerts(
        [
            make_alert(
                {"alertname": "HighErrorRate", "test": tag, "service": "api"},
                {"summary": HOSTILE_SUMMARY},
            ),
            make_alert(
                {"alertname": "DiskFull", "test": tag, "instance": "db1"},
                {"summary": HOSTILE_SUMMARY},
            ),
        ]
    )
    deadline = time.monotonic() + 10
    while True:
        result = sync_alerts()
        assert not result.skipped and not result.error, result
        mine = [a for a in Alert.objects.all() if a.labels.get("test") == tag]
        if len(mine) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert sorted(a.alertname for a in mine) == ["DiskFull", "HighErrorRate"]
    return mine


@pytest.fixture
def chromium(async_unsafe_allowed):
    from django.db import connections

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # While Playwright's event loop runs in this thread, Django keeps the database
            # connections of code run here (fixtures that sync) apart from the thread's own,
            # and pytest-django's teardown, run after the loop stops, never sees them: close
            # them while they are still reachable, or one outlives the test run.
            connections.close_all()


@contextmanager
def open_page(chromium, shots, **options):
    """A page in a fresh browser context (`options`: Playwright's new_context, e.g. a viewport),
    closed afterwards; every wait bounded by WAIT."""
    context = chromium.new_context(**{"locale": "en-GB", **options})
    context.set_default_timeout(WAIT)
    try:
        yield Browsing(context.new_page(), shots)
    finally:
        context.close()


@pytest.fixture
def browsing(chromium, tmp_path):
    with open_page(chromium, tmp_path, viewport={"width": 1280, "height": 900}) as b:
        yield b


def log_in(b: Browsing, base_url: str, username: str) -> None:
    page = b.page
    page.goto(base_url + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"), timeout=WAIT)
    expect(page.get_by_role("heading", name="Log in to alertui")).to_be_visible(timeout=WAIT)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(base_url + "/alerts/", timeout=WAIT)
    expect(page.locator(".topbar .who")).to_contain_text(username, timeout=WAIT)


def am_silence(alertmanager, silence_id: str) -> dict:
    response = requests.get(f"{alertmanager.url}/api/v2/silence/{silence_id}", timeout=HTTP_TIMEOUT)
    response.raise_for_status()
    return response.json()


def parse_am_time(text: str) -> datetime:
    # Alertmanager writes nanoseconds ("2026-01-02T03:04:05.123456789Z"); keep microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00")
    return datetime.fromisoformat(text)
