"""A maintenance window makes silences in its owner's name: a scoped owner's window is held to
their scopes when saved, and makes nothing (and fills no audit) once the scope no longer
covers it. Against a real Alertmanager 0.25."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError

from alertui.audit.models import AuditEvent
from alertui.maintenance import services
from alertui.maintenance.materialize import materialize
from alertui.maintenance.models import Materialization
from alertui.matchers import Matcher
from alertui.scopes.models import Scope
from alertui.silences.recorder import Actor
from tests.api_client import token_client
from tests.maintenance_helpers import make_window, silences_of, soon

pytestmark = pytest.mark.django_db


@pytest.fixture
def pat(db):
    """May silence test_id="<anything starting with scoped->" only."""
    group = Group.objects.create(name="payments")
    Scope.objects.create(name="payments", group=group, matchers='test_id=~"scoped-.*"')
    user = User.objects.create_user("pat")
    user.groups.add(group)
    return user


def test_a_scoped_person_makes_a_window_inside_the_scope_only(am, pat, tag):
    with pytest.raises(ValidationError) as refusal:
        make_window(pat, tag, soon(3600))
    assert refusal.value.message_dict == {
        "matchers": [
            "This silence is outside your scopes: "
            'payments needs a matcher as narrow as test_id=~"scoped-.*".'
        ]
    }

    make_window(pat, f"scoped-{tag}", soon(3600))
    [made] = silences_of(am, f"scoped-{tag}")
    assert made["createdBy"] == "pat"


def test_a_window_whose_scope_was_narrowed_makes_nothing_and_records_no_refusals(
    am, pat, tag, settings
):
    settings.MAINTENANCE_HORIZON = 600
    start = soon(3600)
    window = make_window(pat, f"scoped-{tag}", start)  # beyond the horizon: nothing made yet
    Scope.objects.filter(name="payments").update(matchers='test_id="somewhere-else"')

    for minutes in (6, 5):
        materialize(now=start - timedelta(minutes=minutes))

    assert silences_of(am, f"scoped-{tag}") == []
    assert not AuditEvent.objects.exists()
    row = Materialization.objects.get(window=window)
    assert row.attempts == 2
    assert 'payments needs a matcher as narrow as test_id="somewhere-else"' in row.error
    assert window.matcher_list == [Matcher("test_id", "=", f"scoped-{tag}")]


def test_a_scoped_person_cannot_pause_another_teams_window(am, silencer, pat, tag, client):
    window = make_window(silencer, tag, soon(3600))
    [theirs] = silences_of(am, tag)
    api, _ = token_client(pat)
    client.force_login(pat)

    page = client.get(f"/maintenance/{window.pk}/").content.decode()
    through_page = client.post(f"/maintenance/{window.pk}/pause/", follow=True)
    through_api = api.post(f"/api/v1/maintenance/windows/{window.pk}/pause/")

    assert f'action="/maintenance/{window.pk}/pause/"' not in page
    assert ">Edit<" not in page and ">Skip<" not in page
    assert "outside your scopes" in through_page.content.decode()
    assert through_api.status_code == 403
    assert through_api.json()["reason"] == "out_of_scope"
    window.refresh_from_db()
    assert not window.paused
    [still] = silences_of(am, tag)
    assert still["id"] == theirs["id"] and still["status"]["state"] != "expired"
    assert not AuditEvent.objects.filter(outcome="failed").exists()


def test_a_scoped_person_pauses_a_window_of_their_own_team(am, silencer, pat, tag):
    window = make_window(silencer, f"scoped-{tag}", soon(3600))
    services.pause_window(Actor(pat), window)
    assert silences_of(am, f"scoped-{tag}") == []
