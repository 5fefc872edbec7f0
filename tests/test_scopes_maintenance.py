"""A maintenance window makes silences in its owner's name: a scoped owner's window is held to
their scopes when saved, and makes nothing (and fills no audit) once the scope no longer
covers it. Against a real Alertmanager 0.25."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError

from alertui.audit.models import AuditEvent
from alertui.maintenance.materialize import materialize
from alertui.maintenance.models import Materialization
from alertui.matchers import Matcher
from alertui.scopes.models import Scope
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
