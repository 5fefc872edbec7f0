"""The request address in the audit behind an ingress: X-Forwarded-For only from known proxies."""

import pytest
from django.test import RequestFactory

from alertui.env import parse_networks
from alertui.requestinfo import client_address


def _request(peer: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.fixture
def behind_ingress(settings):
    settings.FORWARDED_PROXIES = parse_networks("FORWARDED_PROXIES", ["10.0.0.0/8", "192.0.2.1"])
    return settings


def test_it_uses_the_peer_without_configured_proxies(settings):
    settings.FORWARDED_PROXIES = ()
    assert client_address(_request("10.1.2.3", "198.51.100.7")) == "10.1.2.3"


def test_it_reads_the_client_from_x_forwarded_for_behind_a_proxy(behind_ingress):
    assert client_address(_request("10.1.2.3", "198.51.100.7")) == "198.51.100.7"


def test_it_skips_every_trusted_hop_from_the_right(behind_ingress):
    request = _request("10.1.2.3", "198.51.100.7, 192.0.2.1, 10.9.9.9")
    assert client_address(request) == "198.51.100.7"


def test_it_ignores_what_a_client_put_left_of_the_first_untrusted_hop(behind_ingress):
    # The client sent "X-Forwarded-For: 203.0.113.66" itself; the ingress appended its address.
    request = _request("10.1.2.3", "203.0.113.66, 198.51.100.7")
    assert client_address(request) == "198.51.100.7"


def test_it_ignores_x_forwarded_for_from_a_peer_that_is_not_a_proxy(behind_ingress):
    assert client_address(_request("198.51.100.7", "203.0.113.66")) == "198.51.100.7"


def test_it_stops_at_a_garbled_hop(behind_ingress):
    request = _request("10.1.2.3", "203.0.113.66, not-an-address")
    assert client_address(request) == "10.1.2.3"


def test_it_reads_x_forwarded_for_from_a_proxy_seen_on_a_dual_stack_socket(behind_ingress):
    # gunicorn bound to [::] sees the IPv4 ingress 10.1.2.3 as ::ffff:10.1.2.3.
    assert client_address(_request("::ffff:10.1.2.3", "198.51.100.7")) == "198.51.100.7"
    assert client_address(_request("::ffff:10.1.2.3", "::ffff:198.51.100.7")) == "198.51.100.7"
    assert client_address(_request("::ffff:198.51.100.7", "203.0.113.66")) == "198.51.100.7"


def test_it_matches_a_proxy_listed_in_its_ipv4_mapped_form(settings):
    settings.FORWARDED_PROXIES = parse_networks("FORWARDED_PROXIES", ["::ffff:10.1.2.3"])
    assert client_address(_request("10.1.2.3", "198.51.100.7")) == "198.51.100.7"
    assert client_address(_request("::ffff:10.1.2.3", "198.51.100.7")) == "198.51.100.7"


def test_it_records_no_address_for_a_peer_that_is_not_one(behind_ingress):
    # The audit's column holds only addresses (PostgreSQL's inet refuses anything else).
    assert client_address(_request("")) is None
    assert client_address(_request("not-an-address")) is None


def test_it_records_the_forwarded_address_in_the_audit(
    behind_ingress, alertmanager_025, redis_db, silencer_client, tag
):
    from alertui.audit.models import AuditEvent

    behind_ingress.ALERTMANAGER_URLS = [alertmanager_025.url]
    response = silencer_client.post(
        "/silences/new/",
        {
            "matcher_name": ["test"],
            "matcher_op": ["="],
            "matcher_value": [tag],
            "duration": "1h",
            "comment": "behind the ingress",
        },
        REMOTE_ADDR="10.1.2.3",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="created")
    assert event.remote_addr == "198.51.100.7"


def test_behind_a_unix_socket_it_reads_x_forwarded_for_only_when_told(settings):
    # gunicorn on a Unix socket sets REMOTE_ADDR to "": the peer is a process on this machine.
    settings.FORWARDED_PROXIES = parse_networks("FORWARDED_PROXIES", ["unix"], unix_socket=True)
    assert client_address(_request("", "203.0.113.66, 198.51.100.7")) == "198.51.100.7"
    assert client_address(_request("", None)) is None  # the proxy said nothing: no address
    assert client_address(_request("10.1.2.3", "198.51.100.7")) == "10.1.2.3"  # TCP: not a proxy

    settings.FORWARDED_PROXIES = parse_networks("FORWARDED_PROXIES", ["10.0.0.0/8"])
    assert client_address(_request("", "198.51.100.7")) is None
