"""An operator's first start: the two traps that used to fail without a word say what to do.

- DEBUG off and no `collectstatic`: every page answered 500. The start says so (system check
  alertui.W001, logged by alertui/wsgi.py since gunicorn runs no checks).
- SECURE_COOKIES on over plain http: the browser drops the HTTPS-only cookies, so the login
  form failed its CSRF check, or the login did not stick. The login page and the CSRF refusal
  say why.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"  # tests/conftest.py's users
COOKIES_NEED_HTTPS = "alertui's cookies are set to travel over HTTPS only"

# -- the static files manifest --------------------------------------------------------------

SHOW_LOGIN_PAGE = (
    "import django; django.setup()\n"
    "from django.test import Client\n"
    "print(Client(raise_request_exception=False).get('/accounts/login/').status_code)\n"
)


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    """DEBUG off, a SQLite file and a STATIC_ROOT of this test's own."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env.update(
        SECRET_KEY="k" * 50,
        DEBUG="false",
        ALLOWED_HOSTS="testserver",
        DJANGO_SETTINGS_MODULE="alertui.settings",
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        STATIC_ROOT=str(tmp_path / "static"),
    )
    return env


def test_the_web_server_says_at_start_that_collectstatic_is_missing(production_env):
    started = run(production_env, "-c", "import alertui.wsgi")
    assert started.returncode == 0, started.stderr
    assert "(alertui.W001) The static files manifest" in started.stderr
    assert "Run `python manage.py collectstatic --noinput`" in started.stderr
    # The trap it warns about: every page answers 500.
    assert run(production_env, "-c", SHOW_LOGIN_PAGE).stdout.strip() == "500"

    collected = run(production_env, "manage.py", "collectstatic", "--noinput")
    assert collected.returncode == 0, collected.stderr
    started = run(production_env, "-c", "import alertui.wsgi")
    assert started.returncode == 0, started.stderr
    assert "alertui.W001" not in started.stderr
    assert run(production_env, "-c", SHOW_LOGIN_PAGE).stdout.strip() == "200"


# -- HTTPS-only cookies over plain http ------------------------------------------------------


@pytest.fixture
def secure_cookies(settings):
    settings.SESSION_COOKIE_SECURE = True  # what SECURE_COOKIES=true (the default) sets
    settings.CSRF_COOKIE_SECURE = True
    return settings


def test_the_login_page_says_when_its_cookies_cannot_work_over_plain_http(secure_cookies, db):
    page = Client().get("/accounts/login/")
    assert page.status_code == 200
    text = page.content.decode()
    assert COOKIES_NEED_HTTPS in text
    assert "SECURE_COOKIES=false" in text and "BEHIND_TLS_PROXY=true" in text

    assert COOKIES_NEED_HTTPS not in Client().get("/accounts/login/", secure=True).content.decode()
    secure_cookies.SESSION_COOKIE_SECURE = secure_cookies.CSRF_COOKIE_SECURE = False
    assert COOKIES_NEED_HTTPS not in Client().get("/accounts/login/").content.decode()


def test_a_login_whose_cookie_the_browser_dropped_says_why(secure_cookies, silencer):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/accounts/login/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    # A browser on an http:// address does not keep a Secure cookie; Django's test client
    # does, so it is dropped here as the browser would.
    browser.cookies.clear()
    refused = browser.post(
        "/accounts/login/",
        {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert refused.status_code == 403
    text = refused.content.decode()
    assert COOKIES_NEED_HTTPS in text and "SECURE_COOKIES=false" in text
    assert "_auth_user_id" not in browser.session


def test_a_login_over_https_with_secure_cookies_works(secure_cookies, silencer):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/accounts/login/", secure=True).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    response = browser.post(
        "/accounts/login/",
        {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token},
        secure=True,
        headers={"Origin": "https://testserver"},
    )
    assert response.status_code == 302
    assert browser.get("/silences/", secure=True).status_code == 200


def test_other_csrf_refusals_say_what_happened_without_the_https_advice(silencer):
    browser = Client(enforce_csrf_checks=True)
    refused = browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert refused.status_code == 403
    text = refused.content.decode()
    assert "CSRF verification failed: CSRF cookie not set." in text
    assert COOKIES_NEED_HTTPS not in text
