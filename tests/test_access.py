"""Who can get in: the login lockout behind an ingress.

Logins go through the real login view and the whole middleware stack (django-axes included).
"""

import pytest
from axes.models import AccessAttempt
from django.test import Client

from alertui.env import parse_networks

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


def test_it_locks_the_username_and_address_pair_only(settings):
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
