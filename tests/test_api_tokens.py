"""The API tokens page (/account/tokens/): a person creates a token (shown once), sees their
tokens, and revokes them; the token then does or does not open the API."""

import html
import re
from datetime import timedelta

import pytest
import time_machine
from django.forms.models import model_to_dict
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from alertui.api.models import ApiToken

pytestmark = pytest.mark.django_db

PAGE = "/account/tokens/"
DAY = 86400


def new_token(client, name="deploy-pipeline", lifetime=30 * DAY):
    """Create a token on the page; (the response, the token as the page shows it)."""
    response = client.post(PAGE, {"name": name, "lifetime": lifetime})
    found = re.search(r'id="new-token"[^>]*value="([^"]+)"', response.content.decode())
    return response, html.unescape(found.group(1)) if found else None


def api_status(token: str, path: str = "/api/v1/silences/") -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get(path).status_code


def revoke_url(row: ApiToken) -> str:
    return f"/account/tokens/{row.token_key}/revoke/"


def messages_on(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_it_shows_a_new_token_once(silencer_client):
    response, token = new_token(silencer_client)

    assert response.status_code == 200
    assert token and len(token) >= 40
    page = response.content.decode()
    assert "Copy it now" in page
    assert f'curl -H "Authorization: Token {token}" http://testserver/api/v1/silences/' in page
    # The one response holding the token must not be kept by any cache.
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]

    again = silencer_client.get(PAGE)
    assert token not in again.content.decode()
    assert "no-store" in again["Cache-Control"]
    row = ApiToken.objects.get()
    assert f"<code>{row.token_key}…</code>" in again.content.decode()
    assert "deploy-pipeline" in again.content.decode()


def test_it_stores_only_a_hash(silencer_client):
    _, token = new_token(silencer_client)

    row = ApiToken.objects.get()
    stored = " ".join(str(v) for v in model_to_dict(row).values())
    assert token not in stored
    assert row.digest != token
    assert token.startswith(row.token_key)  # the short prefix people see, not the secret
    assert len(row.token_key) < len(token) // 2


def test_it_opens_the_api_as_its_owner(silencer_client, silencer):
    _, token = new_token(silencer_client)

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/v1/audit/")
    assert response.status_code == 200
    row = ApiToken.objects.get()
    assert row.user == silencer
    expected = timezone.now() + timedelta(days=30)
    assert expected - timedelta(minutes=5) < row.expiry <= expected


def test_it_refuses_a_second_token_of_the_same_name(silencer_client):
    new_token(silencer_client, name="deploy-pipeline")
    response, token = new_token(silencer_client, name=" deploy-pipeline ")

    assert response.status_code == 400
    assert token is None
    assert "You already have a token of that name; revoke it first." in response.content.decode()
    assert ApiToken.objects.count() == 1


def test_it_lets_two_people_use_the_same_name(silencer_client, viewer):
    new_token(silencer_client, name="ci")
    other = Client()
    other.force_login(viewer)
    response, token = new_token(other, name="ci")

    assert response.status_code == 200 and token
    assert api_status(token) == 200  # a viewer's token reads


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_it_refuses_a_bad_name(silencer_client, name):
    response, token = new_token(silencer_client, name=name)
    assert response.status_code == 400 and token is None
    assert not ApiToken.objects.exists()


def test_it_caps_the_lifetime_at_the_configured_maximum(silencer_client, settings):
    settings.API_TOKEN_MAX_AGE = 30 * DAY
    page = silencer_client.get(PAGE).content.decode()
    offered = re.findall(r'<option value="(\d+)"', page)
    assert offered == [str(7 * DAY), str(30 * DAY)]

    response, token = new_token(silencer_client, lifetime=365 * DAY)
    assert response.status_code == 400 and token is None
    assert "Select a valid choice" in response.content.decode()
    assert not ApiToken.objects.exists()

    settings.API_TOKEN_MAX_AGE = 2 * DAY  # shorter than every preset: that one lifetime only
    page = silencer_client.get(PAGE).content.decode()
    assert re.findall(r'<option value="(\d+)"', page) == [str(2 * DAY)]
    response, token = new_token(silencer_client, lifetime=2 * DAY)
    assert response.status_code == 200 and token
    row = ApiToken.objects.get()
    assert row.expiry <= timezone.now() + timedelta(days=2)


def test_it_revokes_a_token_which_then_stops_working(silencer_client):
    _, token = new_token(silencer_client)
    assert api_status(token) == 200
    row = ApiToken.objects.get()

    response = silencer_client.post(revoke_url(row), follow=True)

    assert response.redirect_chain == [(PAGE, 302)]
    assert messages_on(response) == ["Token deploy-pipeline revoked; it no longer works."]
    assert "You have no API tokens." in response.content.decode()
    assert not ApiToken.objects.exists()
    assert api_status(token) == 401


def test_it_does_not_revoke_someone_elses_token(silencer_client, viewer):
    other = Client()
    other.force_login(viewer)
    _, victors_token = new_token(other, name="dashboard")
    victors_row = ApiToken.objects.get(user=viewer)

    response = silencer_client.post(revoke_url(victors_row), follow=True)

    assert messages_on(response) == ["No such token (it may have expired or been revoked already)."]
    assert ApiToken.objects.filter(pk=victors_row.pk).exists()
    assert api_status(victors_token) == 200
    # Nor does alice see it.
    assert victors_row.token_key not in silencer_client.get(PAGE).content.decode()


def test_it_refuses_to_revoke_with_get(silencer_client):
    new_token(silencer_client)
    row = ApiToken.objects.get()
    assert silencer_client.get(revoke_url(row)).status_code == 405
    assert ApiToken.objects.exists()


def test_it_remembers_when_a_token_was_last_used(silencer_client):
    _, token = new_token(silencer_client)
    row = ApiToken.objects.get()
    assert row.last_used_at is None
    assert "never" in silencer_client.get(PAGE).content.decode()

    api_status(token)
    row.refresh_from_db()
    first_use = row.last_used_at
    assert first_use is not None
    assert abs(timezone.now() - first_use) < timedelta(minutes=1)

    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        api_status(token)
    row.refresh_from_db()
    assert row.last_used_at - first_use >= timedelta(minutes=10)
    page = silencer_client.get(PAGE).content.decode()
    assert f'datetime="{row.last_used_at.isoformat()}"' in page


def test_it_enforces_csrf_on_create_and_revoke(silencer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(silencer)
    page = client.get(PAGE).content.decode()

    assert client.post(PAGE, {"name": "ci", "lifetime": 30 * DAY}).status_code == 403
    assert not ApiToken.objects.exists()

    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    created = client.post(PAGE, {"name": "ci", "lifetime": 30 * DAY, "csrfmiddlewaretoken": csrf})
    assert created.status_code == 200
    row = ApiToken.objects.get()

    assert client.post(revoke_url(row)).status_code == 403
    assert ApiToken.objects.filter(pk=row.pk).exists()
    response = client.post(revoke_url(row), {"csrfmiddlewaretoken": csrf})
    assert response.status_code == 302
    assert not ApiToken.objects.exists()


def test_it_sends_anonymous_visitors_to_the_login_page(client, silencer):
    row, token = ApiToken.objects.create(silencer, expiry=timedelta(days=1), name="ci")

    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={PAGE}"
    assert client.post(PAGE, {"name": "x", "lifetime": 7 * DAY}).status_code == 302
    revoke = client.post(revoke_url(row))
    assert revoke.status_code == 302 and revoke["Location"].startswith("/accounts/login/")
    assert ApiToken.objects.count() == 1
    assert api_status(token) == 200


def test_it_escapes_the_tokens_name(silencer_client):
    response, _ = new_token(silencer_client, name="<script>alert(1)</script>")
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_it_lets_an_administrator_revoke_anyones_token(silencer, admin_user):
    row, token = ApiToken.objects.create(silencer, expiry=timedelta(days=1), name="left-company")
    admin = Client()
    admin.force_login(admin_user)

    listing = admin.get("/admin/api/apitoken/")
    assert listing.status_code == 200
    assert "left-company" in listing.content.decode()
    assert admin.get("/admin/api/apitoken/add/").status_code == 403  # only owners create

    response = admin.post(f"/admin/api/apitoken/{row.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not ApiToken.objects.exists()
    assert api_status(token) == 401


def test_it_expires_tokens_at_their_chosen_lifetime(silencer_client):
    _, token = new_token(silencer_client, lifetime=7 * DAY)
    with time_machine.travel(timezone.now() + timedelta(days=6)):
        assert api_status(token) == 200
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert api_status(token) == 401
