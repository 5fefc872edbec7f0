"""The maintenance pages: the form explains the schedule and lists next occurrences, saving makes
the pending silence at once, and the silences and alerts pages point at the window."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from alertui.maintenance.models import Materialization, Window, WindowChange
from tests.maintenance_helpers import make_window, silences_of, soon

pytestmark = pytest.mark.django_db


def form(tag, **changes):
    data = {
        "name": f"backup {tag}",
        "comment": f"nightly backup, ticket {tag}",
        "matcher_name": ["test_id"],
        "matcher_op": ["="],
        "matcher_value": [tag],
        "frequency": "weekly",
        "interval": "1",
        "start_date": (datetime.now(UTC) + timedelta(days=1)).date().isoformat(),
        "start_time": "02:00",
        "duration": "2h",
        "time_zone": "Europe/Berlin",
        "weekdays": ["6"],
        "monthly": "day",
    }
    data.update(changes)
    return data


def occurrence_list(page: str) -> str:
    return page.split('<ol class="occurrences">', 1)[1].split("</ol>", 1)[0]


def test_a_silencer_creates_a_weekly_window_and_its_page_lists_the_next_sundays(
    am, silencer_client, tag
):
    response = silencer_client.post("/maintenance/new/", form(tag))
    window = Window.objects.get(name=f"backup {tag}")
    assert response.status_code == 302 and response["Location"] == f"/maintenance/{window.pk}/"
    page = silencer_client.get(response["Location"]).content.decode()
    assert "Every week on Sunday at 02:00 for 2 h (Europe/Berlin)" in page
    starts = re.findall(r'<li><time datetime="([^"]+)"', occurrence_list(page))
    assert len(starts) == 10
    for start in starts:
        local = datetime.fromisoformat(start).astimezone(ZoneInfo("Europe/Berlin"))
        assert (local.weekday(), local.hour) == (6, 2)
    assert WindowChange.objects.get(window=window).action == "created"


def test_the_form_refuses_a_bad_window_and_says_why(am, silencer_client, tag):
    response = silencer_client.post(
        "/maintenance/new/", form(tag, time_zone="Nowhere/Atlantis", comment="")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Unknown time zone" in page and "Say why: a comment is required." in page
    assert not Window.objects.exists() and silences_of(am, tag) == []


def test_the_schedule_preview_explains_the_schedule_in_words(silencer_client, tag):
    data = form(
        tag,
        frequency="monthly",
        monthly="nth",
        nth="-1",
        nth_weekday="4",
        time_zone="America/New_York",
    )
    page = silencer_client.get("/maintenance/preview/", data).content.decode()
    assert "Every month on the last Friday at 02:00 for 2 h (America/New_York)" in page
    assert len(re.findall(r"<li><time", occurrence_list(page))) == 5
    page = silencer_client.get("/maintenance/preview/", form(tag, duration="9d")).content.decode()
    assert "shorter than the time between" in page


@pytest.mark.parametrize(
    "field, value, says",
    [("time_zone", "Europe/Berlinx", "Unknown time zone"), ("duration", "2 fortnights", "")],
)
def test_the_schedule_preview_names_the_field_that_is_wrong(
    silencer_client, tag, field, value, says
):
    page = silencer_client.get("/maintenance/preview/", form(tag, **{field: value}))
    text = page.content.decode()

    assert "Fill in the schedule" not in text
    assert says in text and 'class="error"' in text


def test_a_viewer_sees_windows_but_cannot_change_them(am, silencer, viewer_client, tag):
    window = make_window(silencer, tag, soon(3600))
    assert viewer_client.get("/maintenance/").status_code == 200
    assert viewer_client.post("/maintenance/new/", form(tag)).status_code == 403
    assert viewer_client.post(f"/maintenance/{window.pk}/pause/").status_code == 403
    assert len(silences_of(am, tag)) == 1


def test_pause_resume_and_delete_from_the_page_are_each_recorded(
    am, silencer, silencer_client, tag
):
    window = make_window(silencer, tag, soon(3600))
    for action in ("pause", "resume", "delete"):
        response = silencer_client.post(f"/maintenance/{window.pk}/{action}/")
        assert response.status_code == 302
    assert silences_of(am, tag) == []
    assert list(WindowChange.objects.filter(window=window).values_list("action", flat=True)) == [
        "deleted",
        "resumed",
        "paused",
        "created",
    ]
    assert silencer_client.get(f"/maintenance/{window.pk}/").status_code == 404


def test_the_silences_and_alerts_pages_point_at_the_window(am, silencer, silencer_client, tag):
    window = make_window(silencer, tag, soon(2 * 3600 + 60), name=f"patch night {tag}")
    made = Materialization.objects.get(window=window)
    listing = silencer_client.get("/silences/", {"state": "pending", "q": tag}).content.decode()
    assert f'href="/maintenance/{window.pk}/"' in listing
    assert f"maintenance: patch night {tag}" in listing
    detail = silencer_client.get(f"/silences/{made.silence_id}/").content.decode()
    assert f'href="/maintenance/{window.pk}/"' in detail
    alerts = silencer_client.get("/alerts/").content.decode()
    assert re.search(rf"Maintenance in 2\W+hours?.*patch night {tag}", alerts, re.S)


def test_a_running_occurrence_is_ended_from_the_window_page(am, silencer, silencer_client, tag):
    window = make_window(silencer, tag, soon(-60))
    made = Materialization.objects.get(window=window)
    response = silencer_client.post(
        f"/maintenance/{window.pk}/end/", {"occurrence": made.occurrence_start.isoformat()}
    )
    assert response.status_code == 302
    assert silences_of(am, tag) == []
    assert WindowChange.objects.filter(window=window, action="ended early").exists()


def test_the_demo_ships_one_recurring_window_made_once(am, silencer):
    from django.core.management import call_command

    call_command("demo_maintenance_window", "alice")
    call_command("demo_maintenance_window", "alice")
    [window] = Window.objects.all()
    assert (window.frequency, window.weekdays, window.time_zone) == ("weekly", [6], "Europe/Berlin")
    assert window.owner == silencer


def test_an_occurrence_is_moved_from_the_window_page_in_the_viewers_zone(
    am, silencer, silencer_client, tag
):
    window = make_window(silencer, tag, soon(3600))
    made = Materialization.objects.get(window=window)
    berlin = ZoneInfo("Europe/Berlin")
    start = soon(3 * 3600).astimezone(berlin)
    response = silencer_client.post(
        f"/maintenance/{window.pk}/move/",
        {
            "occurrence": made.occurrence_start.isoformat(),
            "starts_at": f"{start:%Y-%m-%dT%H:%M}",
            "ends_at": f"{start + timedelta(hours=1):%Y-%m-%dT%H:%M}",
            "tz": "Europe/Berlin",
        },
    )
    assert response.status_code == 302
    [moved] = silences_of(am, tag)
    assert moved["startsAt"].startswith(f"{start.astimezone(UTC):%Y-%m-%dT%H:%M}")
    page = silencer_client.get(f"/maintenance/{window.pk}/").content.decode()
    assert "moved</span>" in page and "Occurrence" in page


def test_the_form_chooses_the_windows_clusters_and_an_edit_keeps_them(
    am, settings, silencer, silencer_client, tag
):
    from alertui.clusters import Cluster

    # Two clusters served by the one real Alertmanager: where each silence goes is its cluster.
    settings.CLUSTERS = [Cluster(n, {am.url: am.url}, {}, am.url) for n in ("eu", "us")]
    response = silencer_client.post("/maintenance/new/", form(tag, clusters=["us"]))
    window = Window.objects.get(name=f"backup {tag}")
    assert response.status_code == 302 and window.clusters == ["us"]

    edit = silencer_client.get(f"/maintenance/{window.pk}/edit/").content.decode()
    assert re.search(r'<input type="checkbox" name="clusters" value="us"[^>]* checked>', edit)
    assert not re.search(r'<input type="checkbox" name="clusters" value="eu"[^>]* checked>', edit)
    silencer_client.post(
        f"/maintenance/{window.pk}/edit/", form(tag, comment="moved", clusters=["us"])
    )

    window.refresh_from_db()
    assert window.comment == "moved" and window.clusters == ["us"]
