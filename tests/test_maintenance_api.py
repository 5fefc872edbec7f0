"""Maintenance windows through the JSON API, with real tokens and a real Alertmanager 0.25: the
same roles, checks and records as the pages."""

from datetime import UTC, datetime, timedelta

import pytest

from alertui.maintenance.models import Window, WindowChange
from tests.api_client import token_client
from tests.maintenance_helpers import silences_of

pytestmark = pytest.mark.django_db

WINDOWS = "/api/v1/maintenance/windows/"


def weekly(tag, hours_ahead=2, **changes):
    start = (datetime.now(UTC) + timedelta(hours=hours_ahead)).replace(second=0, microsecond=0)
    body = {
        "name": f"deploys {tag}",
        "matchers": [{"name": "test_id", "op": "=", "value": tag}],
        "comment": f"weekly deploy, ticket {tag}",
        "start_date": start.date().isoformat(),
        "start_time": f"{start:%H:%M}",
        "time_zone": "UTC",
        "duration": "1h",
        "frequency": "weekly",
        "weekdays": [start.weekday()],
    }
    return {**body, **changes}


@pytest.fixture
def api(silencer):
    client, _ = token_client(silencer)
    return client


def test_it_creates_a_window_whose_next_occurrence_is_already_a_pending_silence(am, api, tag):
    response = api.post(WINDOWS, weekly(tag), format="json")
    assert response.status_code == 201, response.json()
    window = response.json()
    assert window["owner"] == "alice" and window["clusters"] == ["default"]
    assert window["schedule_text"].startswith("Every week on ")
    first = datetime.fromisoformat(window["next_occurrences"][0]["starts_at"])
    assert timedelta(hours=1) < first - datetime.now(UTC) <= timedelta(hours=2)
    [pending] = silences_of(am, tag)
    assert pending["status"]["state"] == "pending"
    change = WindowChange.objects.get(window_id=window["id"])
    assert (change.action, change.source, change.actor_name) == ("created", "api", "alice")


def test_it_refuses_a_bad_window_and_names_the_field(am, api, tag):
    response = api.post(WINDOWS, weekly(tag, time_zone="Europe/Nowhere"), format="json")
    assert response.status_code == 400
    assert "Unknown time zone" in response.json()["time_zone"][0]
    response = api.post(WINDOWS, weekly(tag, duration="8d"), format="json")
    assert response.status_code == 400 and "shorter" in response.json()["duration"][0]
    assert not Window.objects.exists() and silences_of(am, tag) == []


def test_a_viewer_reads_windows_but_cannot_change_them(am, api, viewer, tag):
    made = api.post(WINDOWS, weekly(tag), format="json").json()
    reader, _ = token_client(viewer)
    assert reader.get(WINDOWS).json()[0]["name"] == f"deploys {tag}"
    assert reader.post(WINDOWS, weekly(tag, name="other"), format="json").status_code == 403
    assert reader.post(f"{WINDOWS}{made['id']}/pause/").status_code == 403
    assert reader.delete(f"{WINDOWS}{made['id']}/").status_code == 403
    assert len(silences_of(am, tag)) == 1


def test_a_patch_changes_only_what_it_sends(am, api, tag):
    made = api.post(WINDOWS, weekly(tag), format="json").json()
    response = api.patch(f"{WINDOWS}{made['id']}/", {"comment": f"longer {tag}"}, format="json")
    assert response.status_code == 200, response.json()
    changed = response.json()
    assert changed["comment"] == f"longer {tag}"
    assert (changed["start_time"], changed["weekdays"]) == (made["start_time"], made["weekdays"])
    [pending] = silences_of(am, tag)
    assert pending["comment"].startswith(f"longer {tag}")


def test_next_occurrences_pause_resume_and_delete(am, api, tag):
    made = api.post(WINDOWS, weekly(tag), format="json").json()
    url = f"{WINDOWS}{made['id']}/"
    listed = api.get(url + "occurrences/", {"n": 4}).json()
    starts = [datetime.fromisoformat(o["starts_at"]) for o in listed]
    assert [b - a for a, b in zip(starts, starts[1:], strict=False)] == [timedelta(days=7)] * 3
    assert api.get(url + "occurrences/", {"n": 0}).status_code == 400

    assert api.post(url + "pause/").json()["paused"] is True
    assert silences_of(am, tag) == []
    assert api.post(url + "pause/").status_code == 200
    assert api.post(url + "resume/").json()["paused"] is False
    assert len(silences_of(am, tag)) == 1
    assert api.post(url + "resume/").status_code == 409

    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    assert silences_of(am, tag) == []
    actions = WindowChange.objects.filter(window_id=made["id"]).values_list("action", flat=True)
    assert list(actions) == ["deleted", "resumed", "paused", "paused", "created"]


def test_skip_and_move_one_occurrence(am, api, tag):
    made = api.post(WINDOWS, weekly(tag), format="json").json()
    url = f"{WINDOWS}{made['id']}/occurrences/"
    first, second = api.get(url, {"n": 2}).json()
    bad = api.post(url + "skip/", {"occurrence": "2027-01-01T00:00:00Z"}, format="json")
    assert bad.status_code == 400 and "no occurrence" in bad.json()["occurrence"][0]

    skipped = api.post(url + "skip/", {"occurrence": first["starts_at"]}, format="json")
    assert skipped.status_code == 200
    assert silences_of(am, tag) == []
    start = datetime.fromisoformat(second["starts_at"])
    moved = {
        "occurrence": second["starts_at"],
        "starts_at": (start + timedelta(days=1)).isoformat(),
        "ends_at": (start + timedelta(days=1, hours=3)).isoformat(),
    }
    assert api.post(url + "move/", moved, format="json").status_code == 200
    listed = api.get(url, {"n": 1}).json()
    assert listed == [
        {
            "starts_at": moved["starts_at"].replace("+00:00", "Z"),
            "ends_at": moved["ends_at"].replace("+00:00", "Z"),
            "moved": True,
        }
    ]


def test_digits_that_are_not_ascii_are_refused_cleanly(am, api, tag):
    created = api.post(WINDOWS, weekly(tag), format="json").json()
    # Python's isdigit() accepts "²" and "٣"; int() does not.
    for raw in ("²", "٣"):
        assert api.get(f"{WINDOWS}{raw}/").status_code == 404
        answer = api.get(f"{WINDOWS}{created['id']}/occurrences/", {"n": raw})
        assert answer.status_code == 400 and "1 to 50" in answer.json()["n"][0]


def test_a_cluster_named_twice_is_kept_once(am, api, tag):
    created = api.post(WINDOWS, weekly(tag, clusters=["default", "default"]), format="json")
    assert created.status_code == 201 and created.json()["clusters"] == ["default"]


def test_the_machines_own_zone_file_is_not_a_time_zone(am, api, tag):
    answer = api.post(WINDOWS, weekly(tag, time_zone="localtime"), format="json")
    assert answer.status_code == 400 and "Unknown time zone" in answer.json()["time_zone"][0]


def test_the_list_filters_by_cluster(am, api, settings, tag):
    from alertui.clusters import Cluster

    # Two clusters served by the one real Alertmanager.
    settings.CLUSTERS = [Cluster(n, {am.url: am.url}, {}, am.url) for n in ("eu", "us")]
    api.post(WINDOWS, weekly(tag, name=f"eu {tag}", clusters=["eu"]), format="json")
    api.post(WINDOWS, weekly(tag, name=f"both {tag}", hours_ahead=3), format="json")

    def names(**params):
        return sorted(w["name"] for w in api.get(WINDOWS, params).json())

    assert names(cluster="us") == [f"both {tag}"]
    assert names(cluster="eu") == [f"both {tag}", f"eu {tag}"]
    assert names(cluster="<nope>") == []


@pytest.mark.parametrize(
    "name", ["deploys\nDROP", "deploys\rx", "tab\there", "bell\x07", "rtl\u202e"]
)
def test_a_name_with_a_line_break_or_control_character_is_refused(am, api, tag, name):
    answer = api.post(WINDOWS, weekly(tag, name=f"{name} {tag}"), format="json")
    assert answer.status_code == 400 and "one line" in answer.json()["name"][0]
    assert not Window.objects.exists() and silences_of(am, tag) == []
