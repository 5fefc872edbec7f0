"""Who may see and do what: login everywhere but /healthz, viewers read, silencers change.

Also CSRF on the forms, the login page, and the optional trusted-header (SSO proxy) login.
"""

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client

from alertui.accounts.roles import SILENCERS, VIEWERS
from alertui.audit.models import AuditEvent, PendingChange
from alertui.env import parse_networks
from alertui.silences.models import Silence

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"  # tests/conftest.py's users


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def seed_silence(am, tag) -> str:
    """An active silence made directly in Alertmanager by "bob", and alertui's mirror of it."""
    now = datetime.now(UTC)
    body = {
        "matchers": [{"name": "test_id", "value": tag, "isRegex": False, "isEqual": True}],
        "startsAt": _iso(now),
        "endsAt": _iso(now + timedelta(hours=1)),
        "createdBy": "bob",
        "comment": f"seeded {tag}",
    }
    response = requests.post(f"{am.url}/api/v2/silences", json=body, timeout=5)
    response.raise_for_status()
    silence_id = response.json()["silenceID"]
    Silence.objects.create(
        id=silence_id,
        matchers=[["test_id", "=", tag]],
        matchers_text=f'test_id="{tag}"',
        starts_at=now,
        ends_at=now + timedelta(hours=1),
        created_by="bob",
        comment=f"seeded {tag}",
        state="active",
    )
    return silence_id


def local_silence(silence_id="0f0e0d0c-aaaa-bbbb-cccc-000000000001") -> Silence:
    """A mirrored silence for pages that only read the local database."""
    now = datetime.now(UTC)
    return Silence.objects.create(
        id=silence_id,
        matchers=[["alertname", "=", "DiskFull"]],
        matchers_text='alertname="DiskFull"',
        starts_at=now,
        ends_at=now + timedelta(hours=1),
        created_by="bob",
        comment="disk swap",
        state="active",
    )


def silences_with(am, tag) -> list[dict]:
    return [s for s in am.raw_silences() if tag in str(s)]


def new_silence_form(tag, **fields) -> dict:
    data = {
        "matcher_name": "test_id",
        "matcher_op": "=",
        "matcher_value": tag,
        "duration": "2h",
        "comment": f"maintenance {tag}",
        "tz": "UTC",
    }
    data.update(fields)
    return data


def csrf_token_in(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found, "the page has no CSRF token field"
    return found[1]


# -- login required ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/silences/",
        "/silences/new/",
        "/silences/preview/",
        "/audit/",
        "/audit/export.csv",
        "/audit/silence/0f0e0d0c-aaaa-bbbb-cccc-000000000001/",
        "/silences/0f0e0d0c-aaaa-bbbb-cccc-000000000001/",
        "/silences/0f0e0d0c-aaaa-bbbb-cccc-000000000001/edit/",
        "/silences/0f0e0d0c-aaaa-bbbb-cccc-000000000001/expire/",
    ],
)
def test_it_sends_anonymous_visitors_to_the_login_page(client, db, path):
    local_silence()
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_it_refuses_anonymous_posts_without_touching_anything(client, db):
    silence = local_silence()
    for path in (
        "/silences/new/",
        f"/silences/{silence.id}/extend/",
        f"/silences/{silence.id}/expire/",
    ):
        response = client.post(path, {"by": "1h"})
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert not AuditEvent.objects.exists()
    assert not PendingChange.objects.exists()


def test_it_answers_healthz_without_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}


# -- viewers -------------------------------------------------------------------------------


def test_it_forbids_viewers_every_change_and_sends_nothing(viewer_client, am, tag):
    silence_id = seed_silence(am, tag)
    (before,) = silences_with(am, tag)
    attempts = [
        ("get", "/silences/new/", {}),
        ("post", "/silences/new/", new_silence_form(tag)),
        ("get", f"/silences/{silence_id}/edit/", {}),
        ("post", f"/silences/{silence_id}/edit/", new_silence_form(tag, comment="changed")),
        ("post", f"/silences/{silence_id}/extend/", {"by": "1d"}),
        ("get", f"/silences/{silence_id}/expire/", {}),
        ("post", f"/silences/{silence_id}/expire/", {}),
    ]
    for method, path, data in attempts:
        response = getattr(viewer_client, method)(path, data)
        assert response.status_code == 403, (method, path, response.status_code)
    # Alertmanager holds the one seeded silence, unchanged; nothing was recorded.
    assert silences_with(am, tag) == [before]
    assert before["status"]["state"] == "active"
    assert not AuditEvent.objects.exists()
    assert not PendingChange.objects.exists()


def test_it_lets_viewers_read_everything(viewer_client, db):
    silence = local_silence()
    AuditEvent.objects.create(
        action="created", source="sync", actor_name="bob", silence_id=silence.id, comment="x"
    )
    for path in (
        "/silences/",
        f"/silences/{silence.id}/",
        "/audit/",
        "/audit/export.csv",
        f"/audit/silence/{silence.id}/",
    ):
        response = viewer_client.get(path)
        assert response.status_code == 200, path
    listing = viewer_client.get("/silences/").content.decode()
    assert silence.id in listing
    audit = viewer_client.get("/audit/").content.decode()
    assert "bob" in audit


def test_it_shows_viewers_no_buttons_they_may_not_use(viewer_client, db):
    silence = local_silence()
    page = viewer_client.get(f"/silences/{silence.id}/").content.decode()
    assert f'href="/silences/{silence.id}/edit/"' not in page
    assert f'href="/silences/{silence.id}/expire/"' not in page
    assert f'action="/silences/{silence.id}/extend/"' not in page
    assert 'href="/silences/new/"' not in page
    assert '<span class="badge">viewer</span>' in page


def test_it_shows_silencers_the_change_buttons(silencer_client, db):
    silence = local_silence()
    page = silencer_client.get(f"/silences/{silence.id}/").content.decode()
    assert f'href="/silences/{silence.id}/edit/"' in page
    assert f'href="/silences/{silence.id}/expire/"' in page
    assert 'href="/silences/new/"' in page


# -- superusers ----------------------------------------------------------------------------


def test_it_lets_a_superuser_create_a_silence(client, admin_user, am, tag):
    client.force_login(admin_user)
    response = client.post("/silences/new/", new_silence_form(tag))
    assert response.status_code == 302, response.content.decode()[:2000]
    (created,) = silences_with(am, tag)
    assert created["createdBy"] == "root"
    assert AuditEvent.objects.get(silence_id=created["id"]).actor_name == "root"


# -- CSRF ----------------------------------------------------------------------------------


def test_it_refuses_a_post_without_the_csrf_token(silencer, am, tag):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(silencer)
    response = browser.post("/silences/new/", new_silence_form(tag))
    assert response.status_code == 403
    assert "CSRF" in response.content.decode()
    assert silences_with(am, tag) == []
    assert not AuditEvent.objects.exists()


def test_it_accepts_a_post_with_the_csrf_token_from_the_page(silencer, am, tag):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(silencer)
    token = csrf_token_in(browser.get("/silences/new/").content.decode())
    data = new_silence_form(tag, csrfmiddlewaretoken=token)
    response = browser.post("/silences/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    (created,) = silences_with(am, tag)
    assert created["createdBy"] == "alice"


def test_it_accepts_the_csrf_token_in_the_htmx_header(silencer, am, tag):
    # htmx posts send the token as X-CSRFToken (base.html sets hx-headers).
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(silencer)
    page = browser.get("/silences/new/").content.decode()
    header = re.search(r"hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'", page)
    assert header, "base.html should put the CSRF token in hx-headers"
    data = new_silence_form(tag, comment="")  # refused by validation, after the CSRF check
    response = browser.post("/silences/new/", data, headers={"X-CSRFToken": header[1]})
    assert response.status_code == 400
    assert "Say why: a comment is required." in response.content.decode()


# -- the login page ------------------------------------------------------------------------


def test_it_logs_in_with_username_and_password(silencer):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/accounts/login/?next=/audit/")
    assert page.status_code == 200
    token = csrf_token_in(page.content.decode())
    response = browser.post(
        "/accounts/login/",
        {
            "username": "alice",
            "password": PASSWORD,
            "next": "/audit/",
            "csrfmiddlewaretoken": token,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/audit/"
    audit = browser.get("/audit/")
    assert audit.status_code == 200
    assert "alice" in audit.content.decode()


def test_it_refuses_a_wrong_password_with_a_message(silencer):
    browser = Client(enforce_csrf_checks=True)
    token = csrf_token_in(browser.get("/accounts/login/").content.decode())
    response = browser.post(
        "/accounts/login/",
        {"username": "alice", "password": "wrong", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 200
    assert "Your username and password did not match" in response.content.decode()
    assert browser.get("/silences/").status_code == 302


def test_it_does_not_log_in_a_deactivated_user(silencer):
    silencer.is_active = False
    silencer.save()
    browser = Client()
    response = browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    assert browser.get("/silences/").status_code == 302


def test_it_logs_out_with_a_post(silencer_client):
    response = silencer_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert silencer_client.get("/silences/").status_code == 302


# -- trusted-header login ------------------------------------------------------------------


@pytest.fixture
def trusted_header(settings, db):
    """Trusted-header login on, as the environment would set it. The middleware reads settings
    when it is built, so tests make their Client after this fixture."""
    from alertui.accounts.roles import ensure_roles

    ensure_roles()
    settings.TRUSTED_HEADER = "X-Forwarded-User"
    settings.TRUSTED_HEADER_PROXIES = parse_networks(
        "TRUSTED_HEADER_PROXIES", ["127.0.0.1", "10.1.0.0/16"]
    )
    settings.TRUSTED_HEADER_DEFAULT_ROLE = "viewer"
    settings.AUTHENTICATION_BACKENDS = [
        "alertui.accounts.backends.TrustedHeaderBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
    return settings


def test_it_logs_in_the_user_named_by_the_proxy_header(trusted_header):
    browser = Client()  # REMOTE_ADDR 127.0.0.1, a listed proxy
    response = browser.get("/silences/", headers={"X-Forwarded-User": "carol"})
    assert response.status_code == 200
    assert "carol" in response.content.decode()
    carol = User.objects.get(username="carol")
    assert list(carol.groups.values_list("name", flat=True)) == [VIEWERS]
    # A viewer by default: reading is fine, changing is not.
    assert browser.get("/silences/new/").status_code == 403


def test_it_honours_the_header_from_a_listed_proxy_network(trusted_header):
    browser = Client(REMOTE_ADDR="10.1.2.3")
    response = browser.get("/audit/", headers={"X-Forwarded-User": "dave"})
    assert response.status_code == 200
    assert User.objects.filter(username="dave").exists()


def test_it_gives_new_header_users_the_configured_role(trusted_header):
    trusted_header.TRUSTED_HEADER_DEFAULT_ROLE = "silencer"
    browser = Client()
    assert browser.get("/silences/new/", headers={"X-Forwarded-User": "erin"}).status_code == 200
    erin = User.objects.get(username="erin")
    assert list(erin.groups.values_list("name", flat=True)) == [SILENCERS]


def test_it_ignores_the_header_from_anyone_but_the_proxy(trusted_header):
    browser = Client(REMOTE_ADDR="10.9.9.9")
    response = browser.get("/silences/", headers={"X-Forwarded-User": "mallory"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/silences/"
    assert not User.objects.filter(username="mallory").exists()


def test_it_ignores_the_header_when_the_feature_is_off(settings, db):
    assert not settings.TRUSTED_HEADER
    browser = Client()
    response = browser.get("/silences/", headers={"X-Forwarded-User": "mallory"})
    assert response.status_code == 302
    assert not User.objects.filter(username="mallory").exists()


def test_it_refuses_to_start_with_a_trusted_header_but_no_proxies():
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TRUSTED_HEADER", "DJANGO_SETTINGS_MODULE"))
    }
    env.update(SECRET_KEY="x" * 50, TRUSTED_HEADER="X-Forwarded-User")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='alertui.settings'; "
            "django.setup()",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "TRUSTED_HEADER_PROXIES" in result.stderr
