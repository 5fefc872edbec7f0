"""Alertmanager and Prometheus behind TLS and authentication, as behind an ingress.

A real Alertmanager 0.25 (TLS, basic auth) and a real Prometheus 2.42 (TLS, basic auth and a
required client certificate) are started with --web.config.file, using a CA made for this run
(tests/pki.py). Settings are built from environment variables as at start. alertui reads and
creates silences with the right credentials, fails clearly with wrong ones, and the password
never shows in /metrics, a page, an error message, an audit row or a log line.
"""

import importlib
import logging

import pytest
from django.apps import apps
from django.forms.models import model_to_dict
from django.utils import timezone

from alertui.alerts.sync import sync_alerts
from alertui.audit.models import AuditEvent
from alertui.env import env_connections
from alertui.integrations.alertmanager import AlertmanagerClient
from alertui.integrations.connection import Connection
from alertui.silences.sync import sync_silences
from alertui.sync.models import SourceStatus
from alertui.targets.models import ScrapePool, TargetHistory
from alertui.targets.sync import sync_targets
from tests.pki import USERNAME, make_pki, new_password, secure
from tests.servers import AlertmanagerProcess, PrometheusProcess
from tests.standins import FaultyProxy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot", "redis_db")]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def password():
    return new_password()


@pytest.fixture(autouse=True)
def _password_is_a_secret(secrets, password):
    secrets.append(password)  # the ledger (tests/ledger.py) checks no audit row holds it


@pytest.fixture(scope="module")
def secured_alertmanager(tmp_path_factory, pki, password):
    am = AlertmanagerProcess("0.25", tmp_path_factory.mktemp("am-tls"))
    secure(am, pki, password, require_client_cert=False).start()
    yield am
    am.stop()


@pytest.fixture(scope="module")
def secured_prometheus(tmp_path_factory, pki, password):
    prom = PrometheusProcess("2.42", tmp_path_factory.mktemp("prom-tls"))
    secure(prom, pki, password, require_client_cert=True).start()
    yield prom
    prom.stop()


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)  # urllib3 and requests log each connection and request
    return caplog


def configure(settings, monkeypatch, prefix: str, url: str, **variables) -> None:
    """Settings for `prefix` built from environment variables, as alertui/settings.py does."""
    monkeypatch.setenv(f"{prefix}_URL", url)
    for name, value in variables.items():
        monkeypatch.setenv(f"{prefix}_{name}", str(value))
    connections = env_connections(prefix)
    setattr(settings, f"{prefix}_CONNECTIONS", connections)
    setattr(settings, f"{prefix}_URLS", list(connections))


def form(tag) -> dict:
    return {
        "matcher_name": ["test"],
        "matcher_op": ["="],
        "matcher_value": [tag],
        "duration": "2h",
        "comment": f"maintenance {tag}",
        "tz": "UTC",
    }


def everything_shown_or_kept(client, logs) -> str:
    """/metrics (anonymous), the pages with their banners, the audit rows, the sources' errors
    and every log line: where a leaked password would be seen or kept."""
    client.logout()
    seen = [client.get("/metrics").content.decode()]
    client.force_login(client.user)
    for path in ("/alerts/", "/silences/", "/targets/", "/audit/"):
        seen.append(client.get(path).content.decode())
    seen.append(b"".join(client.get("/audit/export.csv").streaming_content).decode())
    seen += [repr(model_to_dict(e)) for e in AuditEvent.objects.all()]
    seen += [repr(model_to_dict(s)) for s in SourceStatus.objects.all()]
    seen += [r.getMessage() for r in logs.records]
    return "\n".join(seen)


@pytest.fixture
def client(client, silencer):
    client.force_login(silencer)
    client.user = silencer
    return client


# -- Alertmanager: TLS and basic auth -----------------------------------------------------------


def test_alertui_reads_and_creates_silences_with_the_right_credentials(
    secured_alertmanager, pki, password, settings, monkeypatch, tmp_path, client, logs, tag
):
    secret = tmp_path / "password"
    secret.write_text(password + "\n")
    configure(
        settings,
        monkeypatch,
        "ALERTMANAGER",
        secured_alertmanager.url,
        USERNAME=USERNAME,
        PASSWORD_FILE=secret,
        CA_FILE=pki.ca_file,
    )

    response = client.post("/silences/new/", form(tag))

    assert response.status_code == 302, response.content.decode()
    [created] = [s for s in secured_alertmanager.raw_silences() if s["comment"].endswith(tag)]
    assert created["createdBy"] == "alice"
    assert AuditEvent.objects.get(silence_id=created["id"]).outcome == "succeeded"
    assert sync_silences().error == ""
    assert sync_alerts().error == ""
    assert password not in everything_shown_or_kept(client, logs)


@pytest.mark.parametrize(
    "wrong, says",
    [
        ("password", "access refused (401 Unauthorized): check the credentials alertui uses"),
        ("CA", "TLS: certificate verify failed"),
    ],
)
def test_wrong_credentials_fail_clearly_and_show_no_password(
    wrong, says, secured_alertmanager, pki, password, settings, monkeypatch, client, logs, tag
):
    given = new_password() if wrong == "password" else password
    configure(
        settings,
        monkeypatch,
        "ALERTMANAGER",
        secured_alertmanager.url,
        USERNAME=USERNAME,
        PASSWORD=given,
        CA_FILE=pki.other_ca_file if wrong == "CA" else pki.ca_file,
    )

    assert says in sync_silences().error
    response = client.post("/silences/new/", form(tag))

    assert response.status_code == 400
    assert says in response.content.decode()
    failed = AuditEvent.objects.get(outcome="failed")
    assert secured_alertmanager.url in failed.error and says in failed.error
    assert not [s for s in secured_alertmanager.raw_silences() if s["comment"].endswith(tag)]
    shown = everything_shown_or_kept(client, logs)
    assert "Cannot reach Alertmanager (silences)" in shown  # the banner
    assert password not in shown and given not in shown


def test_credentials_in_the_url_become_basic_auth_and_leave_it(
    secured_alertmanager, pki, password, settings, monkeypatch, client, logs, tag
):
    url = secured_alertmanager.url.replace("https://", f"https://{USERNAME}:{password}@")
    configure(settings, monkeypatch, "ALERTMANAGER", url, CA_FILE=pki.ca_file)

    assert settings.ALERTMANAGER_URLS == [secured_alertmanager.url]
    assert sync_silences().error == ""
    assert client.post("/silences/new/", form(tag)).status_code == 302
    assert password not in everything_shown_or_kept(client, logs)


def test_a_bearer_token_is_sent_to_the_proxy_in_front_of_alertmanager(
    alertmanager_025, settings, monkeypatch, tmp_path, client, logs, tag
):
    # Stand-in: an ingress or kube-rbac-proxy checking a bearer token in front of a real
    # Alertmanager, which has no bearer authentication of its own.
    token = new_password()
    expected = f"Bearer {token}"
    proxy = FaultyProxy(
        alertmanager_025.url,
        lambda method, path, headers: None if headers.get("Authorization") == expected else "401",
    )
    secret = tmp_path / "token"
    secret.write_text(token)
    try:
        configure(settings, monkeypatch, "ALERTMANAGER", proxy.url, BEARER_TOKEN_FILE=secret)
        assert sync_silences().error == ""
        assert client.post("/silences/new/", form(tag)).status_code == 302

        monkeypatch.delenv("ALERTMANAGER_BEARER_TOKEN_FILE")
        configure(settings, monkeypatch, "ALERTMANAGER", proxy.url)
        assert "access refused (401" in sync_silences().error
    finally:
        proxy.stop()
    assert [s for s in alertmanager_025.raw_silences() if s["comment"].endswith(tag)]
    assert token not in everything_shown_or_kept(client, logs)


# -- Prometheus: TLS, basic auth and a client certificate ---------------------------------------


@pytest.mark.parametrize(
    "wrong, says",
    [
        (None, ""),
        ("password", "access refused (401 Unauthorized)"),
        ("client certificate", "TLS"),
    ],
)
def test_prometheus_is_read_with_its_credentials_in_the_url_and_a_client_certificate(
    wrong, says, secured_prometheus, pki, password, settings, monkeypatch, client, logs
):
    given = new_password() if wrong == "password" else password
    url = secured_prometheus.url.replace("https://", f"https://{USERNAME}:{given}@")
    certificate = {"CLIENT_CERT_FILE": pki.client_cert, "CLIENT_KEY_FILE": pki.client_key}
    if wrong == "client certificate":
        certificate = {}
    configure(settings, monkeypatch, "PROMETHEUS", url, CA_FILE=pki.ca_file, **certificate)

    result = sync_targets()

    assert settings.PROMETHEUS_URLS == [secured_prometheus.url]
    if wrong is None:
        assert result.errors == []
    else:
        [error] = result.errors
        assert error.startswith(f"{secured_prometheus.url}: {says}")
    shown = everything_shown_or_kept(client, logs)
    assert f"prometheus {secured_prometheus.url}" in shown  # the source, in /metrics
    assert password not in shown and given not in shown


# -- building connections from a file, and what was stored before -------------------------------


def test_a_connection_is_built_from_prometheus_style_configuration(
    secured_alertmanager, pki, password, tmp_path
):
    secret = tmp_path / "password"
    secret.write_text(password)
    config = {
        "url": secured_alertmanager.url,
        "basic_auth": {"username": USERNAME, "password_file": str(secret)},
        "tls_config": {"ca_file": str(pki.ca_file)},
    }

    connection = Connection.from_config(config)

    assert AlertmanagerClient([connection]).status().version.startswith("0.25.")
    assert password not in repr(connection)
    with pytest.raises(ValueError, match="unknown keys: bearer_token"):
        Connection.from_config({**config, "bearer_token": "x"})
    with pytest.raises(ValueError, match="cannot read '/nonexistent'"):
        Connection.from_config({**config, "tls_config": {"ca_file": "/nonexistent"}})


class MovedSourceStatus:
    """Today's models for the migration, SourceStatus found where it lived then (alerts)."""

    def get_model(self, app_label, name):
        return SourceStatus if name == "SourceStatus" else apps.get_model(app_label, name)


def test_credentials_stored_before_the_upgrade_are_taken_out(client, logs):
    scrub = importlib.import_module("alertui.targets.migrations.0002_scrub_source_credentials")
    secret = new_password()
    with_secret = f"https://{USERNAME}:{secret}@prometheus:9090"
    now = timezone.now()
    SourceStatus.objects.create(
        name=f"prometheus {with_secret}"[:64], failing_since=now, last_error=f"{with_secret}: 401"
    )
    SourceStatus.objects.create(
        name="alertmanager-silences",
        failing_since=now,
        last_error=f"Alertmanager is unreachable: http://{USERNAME}:{secret}@am:9093: refused",
    )
    ScrapePool.objects.create(source=with_secret, name="node", up=1)
    TargetHistory.objects.create(source=with_secret, scrape_pool="node", down_at=now)

    scrub.scrub(MovedSourceStatus(), None)

    assert secret not in everything_shown_or_kept(client, logs)
    assert [h.source for h in TargetHistory.objects.all()] == ["https://prometheus:9090"]
    assert not ScrapePool.objects.exists()  # rebuilt by the next sync, under the bare URL
