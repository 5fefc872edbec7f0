"""One silence Alertmanager sends that alertui cannot read costs that silence only: the others
are synced, the silences page says what was skipped, and the unreadable one is not taken for
gone.

A real Alertmanager validates every silence it stores, so the bad items come from a stand-in
(tests.standins.FixedAnswersServer) serving a fixed /api/v2/silences list."""

import pytest
from django.utils import timezone

from alertui.audit.models import AuditEvent
from alertui.silences.models import Silence
from alertui.silences.sync import sync_silences
from tests.standins import FixedAnswersServer

pytestmark = pytest.mark.django_db

GOOD_ID = "7c2b6f0e-1a2b-4c3d-8e9f-000000000001"
BAD_IDS = {
    "no matchers": "7c2b6f0e-1a2b-4c3d-8e9f-000000000002",
    "bad end": "7c2b6f0e-1a2b-4c3d-8e9f-000000000003",
    "bad matcher": "7c2b6f0e-1a2b-4c3d-8e9f-000000000004",
}


def silence(silence_id, **changes) -> dict:
    now = timezone.now()
    item = {
        "id": silence_id,
        "matchers": [{"name": "job", "value": "api", "isRegex": False, "isEqual": True}],
        "startsAt": now.isoformat(),
        "endsAt": (now + timezone.timedelta(hours=1)).isoformat(),
        "updatedAt": now.isoformat(),
        "createdBy": "bob",
        "comment": "maintenance",
        "status": {"state": "active"},
    }
    item.update(changes)
    return item


@pytest.fixture
def bad_alertmanager(settings, redis_db):
    listed = [
        silence(GOOD_ID),
        silence(BAD_IDS["no matchers"], matchers=[]),
        silence(BAD_IDS["bad end"], endsAt="next tuesday"),
        silence(BAD_IDS["bad matcher"], matchers=[{"name": "job"}]),
        silence(""),
        silence("a/b"),
        "not a silence",
    ]
    server = FixedAnswersServer({"/api/v2/silences": listed, "/api/v2/alerts": []})
    settings.ALERTMANAGER_URLS = [server.url]
    yield server
    server.stop()


def test_one_unreadable_silence_costs_that_silence_only(bad_alertmanager, viewer_client):
    result = sync_silences()

    assert result.error == "" and result.recorded == [f"created {GOOD_ID}"]
    assert AuditEvent.objects.get().silence_id == GOOD_ID
    assert "6 silences from Alertmanager could not be read" in result.note
    page = viewer_client.get("/silences/?state=all")
    assert page.status_code == 200
    assert (
        "6 silences from Alertmanager could not be read and are not shown" in page.content.decode()
    )


@pytest.mark.handmade_rows
def test_a_silence_that_became_unreadable_is_not_taken_for_gone(bad_alertmanager):
    now = timezone.now()
    known = Silence.objects.create(
        id=BAD_IDS["bad end"], starts_at=now, ends_at=now + timezone.timedelta(hours=1)
    )

    sync_silences()

    known.refresh_from_db()
    assert known.in_alertmanager is True
