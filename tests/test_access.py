"""Who can get in, and what the public endpoints tell: the login lockout behind an ingress, the
auth pages alertui serves, trusted-header user names, and /readyz.

Logins go through the real login view and the whole middleware stack (django-axes included).
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from alertui import proxies
from alertui.env import parse_networks

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"  # tests/conftest.py's users
INGRESS = "10.0.0.5"
CLIENT_A = "198.51.100.7"
CLIENT_B = "203.0.113.9"


@pytest.fixture
def behind_ingress(settings):
    settings.FORWARDED_PROXIES = parse_networks("FORWARDED_PROXIES", ["10.0.0.0/8"])
    return settings


def login(browser, peer, forwarded_for=None, username="alice", password=PASSWORD):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return browser.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=peer,
        headers=headers,
    )


def fail_until_locked(settings, peer, forwarded_for=None):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        response = login(Client(), peer, forwarded_for, password=f"wrong {attempt}")
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()


# -- the login lockout -------------------------------------------------------------------------


def test_failures_from_one_client_behind_the_ingress_do_not_lock_out_another(
    behind_ingress, silencer
):
    fail_until_locked(behind_ingress, INGRESS, CLIENT_A)

    browser = Client()
    response = login(browser, INGRESS, CLIENT_B)
    assert response.status_code == 302
    assert browser.get("/silences/", REMOTE_ADDR=INGRESS).status_code == 200

    # The client that failed stays locked, even with the right password.
    assert login(Client(), INGRESS, CLIENT_A).status_code == 429


def test_a_forged_x_forwarded_for_from_a_peer_that_is_not_a_proxy_is_ignored(
    behind_ingress, silencer
):
    attacker = "192.0.2.66"
    fail_until_locked(behind_ingress, attacker, forwarded_for=CLIENT_B)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {attacker}
    # The address the attacker named is not locked, through the ingress or directly.
    assert login(Client(), INGRESS, CLIENT_B).status_code == 302
    assert login(Client(), CLIENT_B).status_code == 302


def test_forging_addresses_through_the_ingress_does_not_reset_the_count(behind_ingress, silencer):
    # The ingress appends the address it was reached from; whatever the client put to its left
    # is ignored, so each attempt below counts against the same client.
    for attempt in range(behind_ingress.AXES_FAILURE_LIMIT):
        forged = f"203.0.113.{attempt + 100}, {CLIENT_A}"
        response = login(Client(), INGRESS, forged, password=f"wrong {attempt}")
    assert response.status_code == 429
    assert login(Client(), INGRESS, f"203.0.113.200, {CLIENT_A}").status_code == 429


# gunicorn bound to a Unix socket (`--bind unix:/run/alertui.sock`) behind nginx on the same
# machine: the peer has no address, so gunicorn sets REMOTE_ADDR to "".
UNIX_PEER = ""


def test_behind_a_unix_socket_one_clients_failures_do_not_lock_out_another(settings, silencer):
    settings.FORWARDED_PROXIES = parse_networks("FORWARDED_PROXIES", ["unix"], unix_socket=True)
    fail_until_locked(settings, UNIX_PEER, CLIENT_A)

    assert login(Client(), UNIX_PEER, CLIENT_B).status_code == 302
    assert login(Client(), UNIX_PEER, CLIENT_A).status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {CLIENT_A}


def test_without_unix_in_forwarded_proxies_a_unix_socket_peer_is_not_trusted(
    settings, silencer, caplog, monkeypatch
):
    # Whatever a client wrote in X-Forwarded-For (nginx passes it on unless told otherwise)
    # names no address: every attempt has none, and the log says what to set, once.
    monkeypatch.setattr(proxies, "_warned", False)
    settings.FORWARDED_PROXIES = parse_networks("FORWARDED_PROXIES", ["10.0.0.0/8"])
    fail_until_locked(settings, UNIX_PEER, CLIENT_A)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {None}
    warnings = [r.getMessage() for r in caplog.records if r.name == "alertui.proxies"]
    assert len(warnings) == 1
    assert "Add unix to FORWARDED_PROXIES" in warnings[0]


def test_unix_is_no_address_for_the_sign_in_proxy():
    # The SSO header logs people in: its proxy is named by address, never by a socket.
    with pytest.raises(ImproperlyConfigured, match="'unix' is not an IP address"):
        parse_networks("TRUSTED_HEADER_PROXIES", ["unix"])


def test_it_locks_the_username_and_address_pair_only(settings):
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


# -- the auth pages --------------------------------------------------------------------------

UNSERVED = [
    "/accounts/password_reset/",
    "/accounts/password_reset/done/",
    "/accounts/reset/MQ/set-password/",
    "/accounts/reset/done/",
    "/accounts/password_change/",
    "/accounts/password_change/done/",
]


@pytest.mark.parametrize("path", UNSERVED)
def test_it_serves_no_password_reset_or_change_pages(path, client, viewer_client):
    assert Client().get(path).status_code == 404
    assert Client().post(path, {"email": "alice@example.com"}).status_code == 404
    assert viewer_client.get(path).status_code == 404


def test_it_still_serves_login_and_logout(client, silencer):
    assert client.get("/accounts/login/").status_code == 200
    assert login(client, "192.0.2.10").status_code == 302
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/silences/").status_code == 302


# -- trusted-header user names ---------------------------------------------------------------


@pytest.fixture
def trusted_header(settings, db):
    """Trusted-header login from the proxy 10.1.2.3; tests make their Client after this."""
    from alertui.accounts.roles import ensure_roles

    ensure_roles()
    settings.TRUSTED_HEADER = "X-Forwarded-User"
    settings.TRUSTED_HEADER_PROXIES = parse_networks("TRUSTED_HEADER_PROXIES", ["10.1.0.0/16"])
    settings.AUTHENTICATION_BACKENDS = [
        "alertui.accounts.backends.TrustedHeaderBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
    return settings


def as_sent(name: bytes) -> str:
    """A header value as a WSGI server hands it to Django: its bytes read as ISO-8859-1."""
    return name.decode("iso-8859-1")


@pytest.mark.parametrize(
    ("sent", "says"),
    [
        (b"a" * 151, "is longer than 150 characters"),
        (b"", "is empty"),
        (b"ali\x00ce", "contains control or invisible formatting characters"),
        (b"alice\r\nroot", "contains control or invisible formatting characters"),
        (b"alice\x1b[2J", "contains control or invisible formatting characters"),
        ("\u202eecila".encode(), "contains control or invisible formatting characters"),
        (b"ali\xffce", "is not valid UTF-8"),
        (b"Jos\xe9", "is not valid UTF-8"),  # ISO-8859-1, not UTF-8
    ],
    ids=["too-long", "empty", "nul", "newline", "escape", "bidi-override", "bad-utf8", "latin1"],
)
def test_it_refuses_a_header_user_name_it_cannot_store_and_says_why(trusted_header, sent, says):
    browser = Client(REMOTE_ADDR="10.1.2.3")
    response = browser.get("/silences/", headers={"X-Forwarded-User": as_sent(sent)})
    assert response.status_code == 403
    page = response.content.decode()
    assert f"The user name your sign-in proxy sent in X-Forwarded-User {says}" in page
    assert not User.objects.exists()


def test_it_accepts_the_longest_header_user_name_and_utf_8(trusted_header):
    longest = "a" * 150
    browser = Client(REMOTE_ADDR="10.1.2.3")
    assert browser.get("/silences/", headers={"X-Forwarded-User": longest}).status_code == 200
    accented = Client(REMOTE_ADDR="10.1.2.3")
    response = accented.get("/silences/", headers={"X-Forwarded-User": as_sent("José".encode())})
    assert response.status_code == 200
    assert "José" in response.content.decode()
    assert sorted(User.objects.values_list("username", flat=True)) == ["José", longest]


def test_it_honours_the_header_from_a_proxy_seen_on_a_dual_stack_socket(trusted_header):
    # gunicorn bound to [::] reports the IPv4 proxy 10.1.2.3 as ::ffff:10.1.2.3.
    browser = Client(REMOTE_ADDR="::ffff:10.1.2.3")
    assert browser.get("/silences/", headers={"X-Forwarded-User": "carol"}).status_code == 200
    assert User.objects.filter(username="carol").exists()
    # ...and a peer outside the list is still ignored in that form.
    outsider = Client(REMOTE_ADDR="::ffff:10.9.9.9")
    assert outsider.get("/silences/", headers={"X-Forwarded-User": "mallory"}).status_code == 302
    assert not User.objects.filter(username="mallory").exists()


# -- /readyz ---------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_readyz_tells_anonymous_callers_only_ok_or_failing(tmp_path):
    """Both components really down (closed ports), in a process of its own so its settings are
    read from the environment as at a real start."""
    db_port, redis_port = closed_port(), closed_port()
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env.update(
        SECRET_KEY="k" * 50,
        ALLOWED_HOSTS="testserver",
        DJANGO_SETTINGS_MODULE="alertui.settings",
        DATABASE_URL=f"postgres://alertui:hunter2@127.0.0.1:{db_port}/alertui",
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
    )
    code = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "response = Client().get('/readyz')\n"
        "print(response.status_code, response.content.decode())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        '503 {"database": "failing", "redis": "failing", "status": "error"}'
    )
    # The details are in the log, for the operator; the password is nowhere.
    assert "the database failed: connection failed: connection to server at" in result.stderr
    assert f"port {db_port} failed" in result.stderr
    assert f"127.0.0.1:{redis_port}" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr
