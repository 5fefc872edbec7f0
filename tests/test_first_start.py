"""An operator's first start: the traps that used to fail without a word say what to do.

- SECURE_COOKIES on over plain http: the browser drops the HTTPS-only cookies, so the login
  form failed its CSRF check, or the login did not stick. The login page and the CSRF refusal
  say why.
"""

import re

import pytest
from django.test import Client

PASSWORD = "correct horse battery staple"  # tests/conftest.py's users
COOKIES_NEED_HTTPS = "alertui's cookies are set to travel over HTTPS only"

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
