"""The audit history pages, its CSV export, and the read-only admin (the append-only
guarantees below the pages are in test_audit_append_only.py).

Events are made directly with AuditEvent.objects.create (inserting is the one thing allowed),
at fixed times in the past, so every filter's expected result is known exactly.
"""

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from alertui.audit.models import AuditEvent

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def event(**fields) -> AuditEvent:
    values = {
        "at": T0,
        "action": "created",
        "source": "browser",
        "actor_name": "alice",
        "silence_id": "s-default",
        "matchers": [["alertname", "=", "DiskFull"]],
        "matchers_text": 'alertname="DiskFull"',
        "starts_at": T0,
        "ends_at": T0 + timedelta(hours=2),
        "comment": "disk swap",
    }
    values.update(fields)
    return AuditEvent.objects.create(**values)


@pytest.fixture
def history(db):
    """Five events over five hours, by three people, newest last."""
    return [
        event(at=T0, actor_name="alice", action="created", silence_id="s-1", comment="swap one"),
        event(
            at=T0 + timedelta(hours=1),
            actor_name="bob",
            action="edited",
            silence_id="s-2",
            matchers=[["job", "=~", "node.*"]],
            matchers_text='job=~"node.*"',
            comment="INC-4711 kernel update",
        ),
        event(
            at=T0 + timedelta(hours=2),
            actor_name="alice",
            action="expired",
            silence_id="s-1",
            comment="done early",
        ),
        event(
            at=T0 + timedelta(hours=3),
            actor_name="carol",
            action="extended",
            outcome="failed",
            error="Alertmanager refused: silence not found",
            silence_id="s-3",
            comment="longer please",
        ),
        event(
            at=T0 + timedelta(hours=4),
            actor_name="amtool-bot",
            action="created",
            source="sync",
            silence_id="s-4",
            comment="made with amtool",
        ),
    ]


ROW = re.compile(r'<tr class="(succeeded|failed)">(.*?)</tr>', re.S)


def rows(response) -> list[str]:
    """The comment cell of each event row in the page, in page order."""
    assert response.status_code == 200
    page = response.content.decode()
    return [
        re.search(r'<td class="comment"[^>]*>(.*?)(?:<div|</td>)', r[1], re.S)[1]
        for r in ROW.findall(page)
    ]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


# -- the list and its filters --------------------------------------------------------------


def test_it_lists_events_newest_first(viewer_client, history):
    assert rows(viewer_client.get("/audit/")) == [
        "made with amtool",
        "longer please",
        "done early",
        "INC-4711 kernel update",
        "swap one",
    ]
    assert "5 events" in viewer_client.get("/audit/").content.decode()


def test_it_filters_by_person(viewer_client, history):
    assert rows(viewer_client.get("/audit/", {"person": "alice"})) == ["done early", "swap one"]
    # Part of a name is enough, whatever the case.
    assert rows(viewer_client.get("/audit/", {"person": "BO"})) == [
        "made with amtool",
        "INC-4711 kernel update",
    ]


def test_it_filters_by_several_actions(viewer_client, history):
    response = viewer_client.get("/audit/", {"action": ["expired", "extended"]})
    assert rows(response) == ["longer please", "done early"]
    assert rows(viewer_client.get("/audit/", {"action": "edited"})) == ["INC-4711 kernel update"]


def test_it_filters_by_text_in_matchers_comments_and_ids(viewer_client, history):
    assert rows(viewer_client.get("/audit/", {"text": "node"})) == ["INC-4711 kernel update"]
    assert rows(viewer_client.get("/audit/", {"text": "inc-4711"})) == ["INC-4711 kernel update"]
    assert rows(viewer_client.get("/audit/", {"text": "s-1"})) == ["done early", "swap one"]
    # Several words must all be found.
    assert rows(viewer_client.get("/audit/", {"text": "DiskFull early"})) == ["done early"]


def test_it_filters_by_time_range_as_the_page_sends_it(viewer_client, history):
    # datetime-local inputs send "YYYY-MM-DDTHH:MM"; until is exclusive.
    response = viewer_client.get(
        "/audit/", {"since": "2025-03-01T13:00", "until": "2025-03-01T15:00"}
    )
    assert rows(response) == ["done early", "INC-4711 kernel update"]
    assert rows(viewer_client.get("/audit/", {"since": "2025-03-01T15:30"})) == ["made with amtool"]


def test_it_explains_a_time_it_cannot_read(viewer_client, history):
    response = viewer_client.get("/audit/", {"since": "yesterday"})
    assert response.status_code == 200
    assert "From: Enter a valid date/time." in response.content.decode()
    assert rows(response) == []


@pytest.mark.regression
def test_it_reads_any_offset_and_refuses_times_outside_the_calendar(viewer_client, history):
    # PostgreSQL refuses offsets beyond ±15:59, which ISO 8601 allows: read as UTC first.
    response = viewer_client.get("/audit/", {"since": "2025-03-02T08:00+16:30"})
    assert response.status_code == 200
    assert rows(response) == ["made with amtool"]  # 2025-03-01T15:30Z and later
    response = viewer_client.get("/audit/", {"until": "0001-01-01T00:00+01:00"})
    assert response.status_code == 200
    assert "Until: That time is out of range." in response.content.decode()
    assert rows(response) == []


def test_it_filters_by_outcome_and_source(viewer_client, history):
    assert rows(viewer_client.get("/audit/", {"outcome": "failed"})) == ["longer please"]
    page = viewer_client.get("/audit/", {"outcome": "failed"}).content.decode()
    assert "Alertmanager refused: silence not found" in page
    assert rows(viewer_client.get("/audit/", {"source": "sync"})) == ["made with amtool"]


def test_it_combines_filters(viewer_client, history):
    response = viewer_client.get("/audit/", {"person": "alice", "action": "created"})
    assert rows(response) == ["swap one"]


def test_it_pages_through_many_events(viewer_client, db):
    for i in range(60):
        event(at=T0 + timedelta(minutes=i), comment=f"event {i:02d}", actor_name="pat")
    first = viewer_client.get("/audit/", {"person": "pat"})
    assert rows(first)[0] == "event 59"
    assert len(rows(first)) == 50
    page = first.content.decode()
    assert "60 events" in page
    assert "Page 1 of 2" in page
    # The "older" link keeps the filter.
    assert 'href="?person=pat&page=2"' in html.unescape(page)
    second = viewer_client.get("/audit/", {"person": "pat", "page": "2"})
    assert rows(second) == [f"event {i:02d}" for i in range(9, -1, -1)]
    assert "Page 2 of 2" in second.content.decode()


# -- CSV -----------------------------------------------------------------------------------


def test_it_exports_the_filtered_events_as_csv(viewer_client, history):
    response = viewer_client.get("/audit/export.csv", {"person": "alice"})
    assert 'filename="alertui-audit.csv"' in response["Content-Disposition"]
    header, *body = csv_rows(response)
    assert header[:4] == ["time (UTC)", "person", "action", "outcome"]
    assert "matchers" in header and "comment" in header
    comment = header.index("comment")
    assert [row[comment] for row in body] == ["done early", "swap one"]
    assert {row[1] for row in body} == {"alice"}
    assert body[0][header.index("silence id")] == "s-1"
    assert body[0][header.index("matchers")] == 'alertname="DiskFull"'


def test_it_exports_all_events_without_a_filter(viewer_client, history):
    header, *body = csv_rows(viewer_client.get("/audit/export.csv"))
    assert len(body) == 5
    assert body[0][header.index("person")] == "amtool-bot"


def test_it_neutralises_spreadsheet_formulas_in_the_csv(viewer_client, db):
    event(comment='=HYPERLINK("http://evil.example","click")', actor_name="+mallory")
    event(comment="-2+3", actor_name="@bob", matchers_text='=cmd|"/c calc"!A1')
    header, *body = csv_rows(viewer_client.get("/audit/export.csv"))
    cells = [row[header.index(c)] for row in body for c in ("comment", "person", "matchers")]
    assert '\'=HYPERLINK("http://evil.example","click")' in cells
    assert "'+mallory" in cells and "'@bob" in cells and "'-2+3" in cells
    assert '\'=cmd|"/c calc"!A1' in cells
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]


# -- one silence's history -----------------------------------------------------------------


@pytest.fixture
def chain(db):
    """A silence edited twice, Alertmanager giving it a new id each time: id1 -> id2 -> id3."""
    return [
        event(at=T0, action="created", silence_id="id1", comment="first version"),
        event(
            at=T0 + timedelta(hours=1),
            action="replaced",
            silence_id="id2",
            previous_silence_id="id1",
            comment="second version",
        ),
        event(
            at=T0 + timedelta(hours=2),
            action="replaced",
            silence_id="id3",
            previous_silence_id="id2",
            comment="third version",
        ),
        event(at=T0 + timedelta(hours=3), action="expired", silence_id="id3", comment="gone"),
        event(at=T0 + timedelta(hours=1), silence_id="other", comment="unrelated silence"),
    ]


@pytest.mark.parametrize("start", ["id1", "id2", "id3"])
def test_it_shows_the_whole_chain_of_ids_from_any_of_them(viewer_client, chain, start):
    response = viewer_client.get(f"/audit/silence/{start}/")
    assert rows(response) == ["first version", "second version", "third version", "gone"]


def test_it_shows_the_history_of_an_unknown_silence_as_empty(viewer_client, chain):
    response = viewer_client.get("/audit/silence/nope/")
    assert response.status_code == 200
    assert "No events match." in response.content.decode()


def test_it_pages_a_long_silence_history_oldest_first(viewer_client, db):
    # A silence a script extended 70 times, replaced once on the way (id1 -> id2): more events
    # than one page (50) holds.
    for n in range(70):
        event(
            at=T0 + timedelta(minutes=n),
            action="replaced" if n == 30 else "extended",
            silence_id="id1" if n < 30 else "id2",
            previous_silence_id="id1" if n == 30 else "",
            comment=f"change {n}",
        )

    first = viewer_client.get("/audit/silence/id1/")
    assert rows(first) == [f"change {n}" for n in range(50)]
    page = first.content.decode()
    assert "70 events, oldest first" in page
    assert 'href="?page=2">Later →</a>' in page
    assert "Earlier" not in page
    second = viewer_client.get("/audit/silence/id2/", {"page": 2})
    assert rows(second) == [f"change {n}" for n in range(50, 70)]
    assert 'href="?page=1">← Earlier</a>' in second.content.decode()
    # A page that does not exist, or is not a number, shows the nearest one, never an error.
    assert rows(viewer_client.get("/audit/silence/id2/", {"page": 99}))[0] == "change 50"
    assert rows(viewer_client.get("/audit/silence/id2/", {"page": "x"}))[0] == "change 0"


def who_and_action(response) -> list[tuple[str, str]]:
    """The text of the Who and Action cells of each row, tags and spacing dropped."""
    page = response.content.decode()
    found = []
    for _, row in ROW.findall(page):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        text = [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells[1:3]]
        found.append((text[0], text[1]))
    return found


def test_a_silence_that_ended_on_schedule_says_so_rather_than_unknown(viewer_client, db):
    event(at=T0, action="created", silence_id="s-9", actor_name="alice")
    event(
        at=T0 + timedelta(hours=2), action="ended", source="sync", actor_name="", silence_id="s-9"
    )
    # Expired early outside alertui: Alertmanager does not say by whom, so that stays unknown.
    event(
        at=T0 + timedelta(hours=3), action="expired", source="sync", actor_name="", silence_id="s-8"
    )
    for path in ("/audit/", "/audit/silence/s-9/"):
        found = who_and_action(viewer_client.get(path))
        ended = [f for f in found if f[1].startswith("ended")]
        assert ended == [("no one: it ended on schedule", "ended (reached its end time)")], path
    expired = [f for f in who_and_action(viewer_client.get("/audit/")) if f[1] == "expired"]
    assert expired == [("unknown", "expired")]


@pytest.fixture
def replaced_then_ended(db):
    """Silence id1, replaced by id2 through an edit; id2 has ended."""
    from alertui.silences.models import Silence

    def silence(silence_id, ends_at, **fields):
        return Silence.objects.create(
            id=silence_id,
            matchers=[["alertname", "=", "DiskFull"]],
            matchers_text='alertname="DiskFull"',
            starts_at=T0,
            ends_at=ends_at,
            created_by="alice",
            comment="disk swap",
            first_seen_at=ends_at - timedelta(hours=1),
            **fields,
        )

    silence("id1", T0 + timedelta(hours=1), replaced_by="id2", state="expired")
    silence("id2", T0 + timedelta(hours=3), state="expired")
    event(at=T0, action="created", silence_id="id1")
    event(
        at=T0 + timedelta(hours=1), action="replaced", silence_id="id2", previous_silence_id="id1"
    )


def links(response) -> dict[str, str]:
    page = response.content.decode()
    actions = re.search(r'<div class="actions">(.*?)</div>', page, re.S)
    assert actions, "no links to the silence on its history page"
    return {
        text: href
        for href, text in re.findall(r'<a class="button" href="([^"]+)">([^<]+)</a>', actions[1])
    }


@pytest.mark.parametrize("start", ["id1", "id2"])
def test_a_silences_history_links_to_it_and_to_recreate_it(
    silencer_client, replaced_then_ended, start
):
    found = links(silencer_client.get(f"/audit/silence/{start}/"))
    # The silence as it is now (the id the edit gave it), and a new one made from it.
    assert found == {"Open the silence": "/silences/id2/", "Recreate": "/silences/new/?from=id2"}


def test_only_people_who_may_silence_are_offered_recreate(viewer_client, replaced_then_ended):
    assert links(viewer_client.get("/audit/silence/id1/")) == {"Open the silence": "/silences/id2/"}


def test_a_silence_still_running_is_not_offered_for_recreation(silencer_client, db):
    from alertui.silences.models import Silence

    Silence.objects.create(
        id="live", matchers=[], starts_at=T0, ends_at=T0 + timedelta(days=3650), state="active"
    )
    event(silence_id="live")
    assert links(silencer_client.get("/audit/silence/live/")) == {
        "Open the silence": "/silences/live/"
    }


# -- escaping ------------------------------------------------------------------------------


def test_it_escapes_html_from_alertmanager_and_users(viewer_client, db):
    event(
        silence_id="x1",
        actor_name="<img src=x onerror=alert(1)>",
        source="sync",
        comment="<script>alert('comment')</script>",
        matchers=[["alertname", "=", "<script>alert('matcher')</script>"]],
        matchers_text="alertname=\"<script>alert('matcher')</script>\"",
        note="<b>note</b>",
    )
    for path in ("/audit/", "/audit/silence/x1/", "/audit/?text=script"):
        page = viewer_client.get(path).content.decode()
        assert "<script>alert" not in page, path
        assert "<img src=x" not in page, path
        assert "<b>note</b>" not in page, path
        assert "&lt;script&gt;alert(&#x27;comment&#x27;)&lt;/script&gt;" in page, path
        assert "&lt;script&gt;alert(&#x27;matcher&#x27;)&lt;/script&gt;" in page, path
        assert "&lt;img src=x onerror=alert(1)&gt;" in page, path


# -- the admin -----------------------------------------------------------------------------


def test_it_shows_audit_events_read_only_in_the_admin(client, admin_user):
    client.force_login(admin_user)
    saved = event(comment="in the admin", actor_name="alice")
    changelist = client.get("/admin/audit/auditevent/")
    assert changelist.status_code == 200
    assert f"/admin/audit/auditevent/{saved.pk}/change/" in changelist.content.decode()
    assert 'value="delete_selected"' not in changelist.content.decode()

    view = client.get(f"/admin/audit/auditevent/{saved.pk}/change/")
    assert view.status_code == 200
    page = view.content.decode()
    assert "in the admin" in page
    assert 'name="_save"' not in page
    assert 'name="_continue"' not in page
    assert f"/admin/audit/auditevent/{saved.pk}/delete/" not in page
    assert client.get("/admin/audit/auditevent/add/").status_code == 403


def test_it_refuses_changes_and_deletes_through_the_admin(client, admin_user):
    client.force_login(admin_user)
    saved = event(comment="original")
    change = client.post(
        f"/admin/audit/auditevent/{saved.pk}/change/",
        {"comment": "rewritten", "action": "created", "source": "browser", "_save": "Save"},
    )
    assert change.status_code == 403
    assert client.get(f"/admin/audit/auditevent/{saved.pk}/delete/").status_code == 403
    delete = client.post(f"/admin/audit/auditevent/{saved.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    bulk = client.post(
        "/admin/audit/auditevent/",
        {"action": "delete_selected", "_selected_action": [saved.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert AuditEvent.objects.get(pk=saved.pk).comment == "original"


@pytest.mark.regression
def test_it_explains_a_person_or_text_filter_too_long_to_be_a_name(viewer_client, history):
    # Found by tests/test_fuzz.py: SQLite refuses LIKE patterns over 50 kB (a 500 before).
    response = viewer_client.get("/audit/", {"person": "🔥" * 12500})
    assert response.status_code == 200
    assert "Person: Ensure this value has at most 255 characters" in response.content.decode()
    assert rows(response) == []
    response = viewer_client.get("/audit/export.csv", {"text": "x" * 1001})
    assert response.status_code == 200
    assert b"".join(response.streaming_content).decode().count("\n") == 1  # the header only
