"""A recreated silence joins the history of the expired silence it was made from, and only that:
the link cannot be forged into another silence's history (real Alertmanager 0.25)."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alertui.audit.models import AuditEvent
from alertui.matchers import Matcher
from alertui.silences import services
from alertui.silences.forms import recreate_token
from alertui.silences.models import Silence
from alertui.silences.services import Actor, SilenceValues
from tests.conftest import _user

pytestmark = pytest.mark.django_db


def values(tag, comment="deploying the api"):
    now = timezone.now()
    return SilenceValues((Matcher("test", "=", tag),), now, now + timedelta(hours=2), comment)


def new_silence_form(tag, **extra) -> dict:
    form = {
        "matcher_name": "test",
        "matcher_op": "=",
        "matcher_value": tag,
        "duration": "1h",
        "comment": f"mallory {tag}",
    }
    form.update(extra)
    return form


def created_id(response) -> str:
    return re.search(r"/silences/([0-9a-f-]{36})/", response["Location"]).group(1)


@pytest.fixture
def mallory_client(client, db):
    client.force_login(_user("mallory", "silencer"))
    return client


@pytest.mark.regression
@pytest.mark.parametrize("victim_state", ["active", "expired"])
def test_a_typed_in_recreated_from_does_not_join_another_silences_history(
    am, silencer, mallory_client, tag, victim_state
):
    victim = services.create_silence(Actor(silencer), values(tag))
    if victim_state == "expired":
        services.expire_silence(Actor(silencer), victim.id)

    response = mallory_client.post(
        "/silences/new/", new_silence_form(tag, recreated_from=victim.id)
    )

    assert response.status_code == 302
    mine = AuditEvent.objects.get(silence_id=created_id(response))
    assert (mine.action, mine.previous_silence_id) == ("created", "")
    history = mallory_client.get(f"/audit/silence/{victim.id}/")
    assert history.context["chain"] == [victim.id]


def test_a_recreate_link_issued_to_someone_else_is_ignored(am, silencer, mallory_client, tag):
    victim = services.create_silence(Actor(silencer), values(tag))
    services.expire_silence(Actor(silencer), victim.id)
    alices_token = recreate_token(victim.id, silencer)

    response = mallory_client.post(
        "/silences/new/", new_silence_form(tag, recreated_from=alices_token)
    )

    assert AuditEvent.objects.get(silence_id=created_id(response)).previous_silence_id == ""


def test_recreating_from_the_page_links_the_new_silence_to_the_expired_one(
    am, silencer, silencer_client, tag
):
    expired = services.create_silence(Actor(silencer), values(tag))
    services.expire_silence(Actor(silencer), expired.id)
    page = silencer_client.get(f"/silences/new/?from={expired.id}").content.decode()
    token = re.search(r'name="recreated_from" value="([^"]+)"', page).group(1)
    assert token != expired.id  # signed, not the bare id

    response = silencer_client.post(
        "/silences/new/", new_silence_form(tag, recreated_from=token, comment="again")
    )

    event = AuditEvent.objects.get(silence_id=created_id(response))
    assert (event.action, event.previous_silence_id) == ("recreated", expired.id)
    history = silencer_client.get(f"/audit/silence/{expired.id}/")
    assert history.context["chain"] == sorted([expired.id, created_id(response)])


def test_an_active_silence_cannot_be_recreated(am, silencer, silencer_client, tag):
    active = services.create_silence(Actor(silencer), values(tag))

    page = silencer_client.get(f"/silences/new/?from={active.id}", follow=True)
    assert page.redirect_chain[-1][0] == f"/silences/{active.id}/"
    assert "Only an expired silence can be recreated" in page.content.decode()
    with pytest.raises(ValidationError, match="Only an expired silence"):
        services.create_silence(Actor(silencer), values(tag), recreated_from=active.id)
    assert Silence.objects.count() == 1
    assert not AuditEvent.objects.filter(action="recreated").exists()
