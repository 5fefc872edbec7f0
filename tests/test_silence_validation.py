"""The new-silence form through the real view: bad input is explained and never sent.

Every refused post must answer 400 with the message next to the field it concerns, and leave no
trace: no silence in Alertmanager (searched for the test's unique tag), no audit row, no intent.
One Alertmanager version (0.25) is enough here: the checks run before anything is sent.
"""

import html
import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from alertui.alerts.models import Alert
from alertui.audit.models import AuditEvent, PendingChange

NEW = "/silences/new/"
PREVIEW = "/silences/preview/"


def form(tag, rows=None, **fields):
    """POST data of the form: matcher rows (default: test_id="<tag>"), 2h, a comment, UTC."""
    rows = [("test_id", "=", tag)] if rows is None else rows
    data = {
        "matcher_name": [name for name, _, _ in rows],
        "matcher_op": [op for _, op, _ in rows],
        "matcher_value": [value for _, _, value in rows],
        "duration": "2h",
        "comment": f"disk swap, ticket {tag}",
        "tz": "UTC",
    }
    data.update(fields)
    return data


def silences_with(am, tag) -> list[dict]:
    """Alertmanager's silences that mention the tag anywhere (matcher name/value, comment)."""
    return [s for s in am.raw_silences() if tag in json.dumps(s)]


def local_minute(dt: datetime) -> str:
    """A datetime-local input value."""
    return dt.strftime("%Y-%m-%dT%H:%M")


# Where each field's messages are shown: from the field to the end of its part of the form.
SECTIONS = {
    "matchers": ("<legend>Matchers</legend>", "</fieldset>"),
    "duration": ('name="duration"', 'name="starts_at"'),
    "when": ("<legend>When</legend>", "</fieldset>"),
    "ends_at": ('name="ends_at"', "</fieldset>"),
    "comment": ('name="comment"', "Creator:"),
}


def section(page: str, name: str) -> str:
    start_marker, end_marker = SECTIONS[name]
    start = page.index(start_marker)
    end = page.index(end_marker, start)
    return html.unescape(page[start:end])


def assert_refused(response, am, tag, message: str, where: str) -> None:
    assert response.status_code == 400, response.content.decode()[:2000]
    page = response.content.decode()
    shown = section(page, where)
    assert message in shown, f"{message!r} not shown in the {where} part of the form:\n{shown}"
    assert 'role="alert"' in shown
    assert silences_with(am, tag) == []
    assert not AuditEvent.objects.exists()
    assert not PendingChange.objects.exists()


# -- refused input -------------------------------------------------------------------------


@pytest.mark.parametrize("comment", ["", "   \n\t "], ids=["empty", "whitespace"])
def test_it_requires_a_comment(silencer_client, am, tag, comment):
    response = silencer_client.post(NEW, form(tag, comment=comment))
    assert_refused(response, am, tag, "Say why: a comment is required.", "comment")


@pytest.mark.parametrize("rows", [[], [("", "=", "")]], ids=["no-rows", "blank-row"])
def test_it_requires_a_matcher(silencer_client, am, tag, rows):
    response = silencer_client.post(NEW, form(tag, rows=rows))
    assert_refused(response, am, tag, "Add at least one matcher.", "matchers")


@pytest.mark.parametrize(
    "rows",
    [
        [("team", "=", "")],
        [("team", "=~", ".*")],
        [("team", "=", ""), ("job", "=~", ".*"), ("env", "!=", "prod")],
    ],
    ids=["equal-empty", "regex-any", "several"],
)
def test_it_refuses_matchers_that_all_match_the_empty_string(silencer_client, am, tag, rows):
    response = silencer_client.post(NEW, form(tag, rows=rows))
    assert_refused(
        response, am, tag, "Every matcher here also matches alerts without that label", "matchers"
    )


def test_it_refuses_an_invalid_label_name(silencer_client, am, tag):
    rows = [("test_id", "=", tag), ("foo-bar", "=", "x")]
    response = silencer_client.post(NEW, form(tag, rows=rows))
    assert_refused(response, am, tag, "invalid label name 'foo-bar'", "matchers")


def test_it_refuses_a_matcher_value_without_a_label_name(silencer_client, am, tag):
    rows = [("test_id", "=", tag), ("", "=", "orphan")]
    response = silencer_client.post(NEW, form(tag, rows=rows))
    assert_refused(response, am, tag, "has no label name", "matchers")


def test_it_refuses_a_regex_that_does_not_compile(silencer_client, am, tag):
    rows = [("test_id", "=", tag), ("job", "=~", "(")]
    response = silencer_client.post(NEW, form(tag, rows=rows))
    assert_refused(response, am, tag, "invalid regular expression '('", "matchers")


def test_it_refuses_a_regex_go_cannot_compile(silencer_client, am, tag):
    rows = [("test_id", "=", tag), ("job", "=~", r"(a)\1")]
    response = silencer_client.post(NEW, form(tag, rows=rows))
    assert_refused(response, am, tag, r"invalid regular expression '(a)\\1'", "matchers")


def test_it_refuses_an_end_before_the_start(silencer_client, am, tag):
    start = datetime.now(UTC) + timedelta(hours=3)
    data = form(
        tag,
        duration="",
        starts_at=local_minute(start),
        ends_at=local_minute(start - timedelta(hours=1)),
    )
    response = silencer_client.post(NEW, data)
    assert_refused(response, am, tag, "The end must be after the start.", "ends_at")


def test_it_refuses_an_end_in_the_past(silencer_client, am, tag):
    now = datetime.now(UTC)
    data = form(
        tag,
        duration="",
        starts_at=local_minute(now - timedelta(hours=3)),
        ends_at=local_minute(now - timedelta(hours=1)),
    )
    response = silencer_client.post(NEW, data)
    assert_refused(response, am, tag, "The end is in the past.", "ends_at")


def test_it_refuses_a_silence_longer_than_the_maximum(silencer_client, am, tag, settings):
    settings.SILENCE_MAX_DURATION = 3600
    response = silencer_client.post(NEW, form(tag, duration="2h"))
    assert_refused(response, am, tag, "A silence may last at most 1h", "when")


def test_it_refuses_a_duration_it_cannot_read(silencer_client, am, tag):
    response = silencer_client.post(NEW, form(tag, duration="soon"))
    assert_refused(response, am, tag, "'soon' is not a duration", "duration")


def test_it_asks_for_a_duration_or_an_end(silencer_client, am, tag):
    response = silencer_client.post(NEW, form(tag, duration=""))
    assert_refused(response, am, tag, "Enter a duration (such as 2h) or an end time.", "duration")


def test_it_keeps_what_was_typed_when_it_refuses(silencer_client, am, tag):
    rows = [("test_id", "=", tag), ("job", "=~", "(")]
    response = silencer_client.post(NEW, form(tag, rows=rows, comment=f"keep me {tag}"))
    assert response.status_code == 400
    page = response.content.decode()
    assert f'name="matcher_value" value="{tag}"' in page
    assert 'name="matcher_value" value="("' in page
    assert f"keep me {tag}" in page


# -- accepted input ------------------------------------------------------------------------


def test_it_creates_the_silence_as_the_logged_in_user_whatever_the_post_says(
    silencer_client, am, tag
):
    data = form(tag, created_by="mallory", createdBy="mallory")
    response = silencer_client.post(NEW, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    (created,) = silences_with(am, tag)
    assert created["createdBy"] == "alice"
    assert created["comment"] == f"disk swap, ticket {tag}"
    assert response["Location"] == f"/silences/{created['id']}/"
    event = AuditEvent.objects.get(silence_id=created["id"])
    assert (event.actor_name, event.action, event.outcome) == ("alice", "created", "succeeded")
    assert not PendingChange.objects.exists()


def test_it_offers_no_creator_field(silencer_client):
    page = silencer_client.get(NEW).content.decode()
    assert 'name="created_by"' not in page and 'name="createdBy"' not in page
    assert "Creator: <strong>alice</strong>" in page


@pytest.mark.parametrize(
    ("local_start", "utc_start"),
    [
        ("01-15T10:30", "01-15T09:30"),  # CET, UTC+1
        ("07-15T10:30", "07-15T08:30"),  # CEST, UTC+2
    ],
    ids=["winter", "summer"],
)
def test_it_reads_explicit_times_in_the_browsers_zone(
    silencer_client, am, tag, local_start, utc_start
):
    year = datetime.now(UTC).year + 1
    start = datetime.fromisoformat(f"{year}-{local_start}")
    data = form(
        tag,
        duration="",
        tz="Europe/Berlin",
        starts_at=local_minute(start),
        ends_at=local_minute(start + timedelta(hours=2)),
    )
    response = silencer_client.post(NEW, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    (created,) = silences_with(am, tag)
    expected_start = datetime.fromisoformat(f"{year}-{utc_start}").replace(tzinfo=UTC)
    assert datetime.fromisoformat(created["startsAt"]) == expected_start
    assert datetime.fromisoformat(created["endsAt"]) == expected_start + timedelta(hours=2)
    # The same instant, seen from Berlin, is what was typed.
    assert expected_start.astimezone(ZoneInfo("Europe/Berlin")).replace(tzinfo=None) == start


# -- pre-fill ------------------------------------------------------------------------------

ROW = re.compile(
    r'<div class="matcher-row">\s*<label>Label <input name="matcher_name" value="([^"]*)"'
    r'.*?<option value="([^"]*)" selected>'
    r'.*?name="matcher_value" value="([^"]*)"',
    re.S,
)


def rendered_rows(page: str) -> list[tuple[str, str, str]]:
    return [tuple(html.unescape(part) for part in row) for row in ROW.findall(page)]


def test_it_prefills_matchers_duration_and_comment_from_the_link(silencer_client):
    response = silencer_client.get(
        NEW, {"filter": 'alertname="X",job=~"y.*"', "duration": "4h", "comment": "deploy 42"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert rendered_rows(page) == [("alertname", "=", "X"), ("job", "=~", "y.*")]
    assert 'name="duration" value="4h"' in page
    assert "deploy 42</textarea>" in page


def test_it_prefills_the_default_duration(silencer_client, settings):
    settings.SILENCE_DEFAULT_DURATION = 90 * 60
    page = silencer_client.get(NEW).content.decode()
    assert 'name="duration" value="1h 30m"' in page


def test_it_shows_a_notice_for_a_filter_it_cannot_read(silencer_client):
    response = silencer_client.get(NEW, {"filter": 'alertname="X'})
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert '<p class="banner warning">Could not pre-fill the matchers: ' in page
    assert rendered_rows(response.content.decode()) == [("", "=", "")]


# -- preview -------------------------------------------------------------------------------


def snapshot_alert(fingerprint, **labels):
    return Alert.objects.create(
        fingerprint=fingerprint,
        alertname=labels.get("alertname", ""),
        labels=labels,
        state="active",
    )


def preview(client, *rows):
    return client.get(
        PREVIEW,
        {
            "matcher_name": [r[0] for r in rows],
            "matcher_op": [r[1] for r in rows],
            "matcher_value": [r[2] for r in rows],
        },
    )


def test_it_previews_the_alerts_the_matchers_would_silence(silencer_client, tag):
    snapshot_alert("f1", alertname="DiskFull", test_id=tag, instance="node-1")
    snapshot_alert("f2", alertname="HighLoad", test_id=tag, instance="node-2")
    snapshot_alert("f3", alertname="Unrelated", test_id="other", instance="node-3")
    response = preview(silencer_client, ("test_id", "=", tag))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<strong>2</strong> current alerts would be silenced" in page
    assert "DiskFull" in page and "HighLoad" in page
    assert "Unrelated" not in page

    narrowed = preview(silencer_client, ("test_id", "=", tag), ("instance", "!=", "node-2"))
    page = narrowed.content.decode()
    assert "<strong>1</strong> current alert would be silenced" in page
    assert "DiskFull" in page and "HighLoad" not in page


def test_it_previews_regexes_anchored_like_alertmanager(silencer_client, tag):
    snapshot_alert("f1", alertname="DiskFull", test_id=tag)
    page = preview(silencer_client, ("test_id", "=~", tag[:6])).content.decode()
    assert "<strong>0</strong> current alerts would be silenced" in page
    page = preview(silencer_client, ("test_id", "=~", tag[:6] + ".*")).content.decode()
    assert "<strong>1</strong> current alert would be silenced" in page


def test_it_escapes_html_in_previewed_labels(silencer_client, tag):
    snapshot_alert(
        "f1",
        alertname="<b>Bold</b>",
        test_id=tag,
        summary="<script>alert(1)</script>",
        **{"<img": "src=x onerror=alert(2)>"},
    )
    page = preview(silencer_client, ("test_id", "=", tag)).content.decode()
    assert "<strong>1</strong> current alert would be silenced" in page
    assert "<script>" not in page and "<b>Bold</b>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;Bold&lt;/b&gt;" in page


def test_it_explains_a_bad_regex_in_the_preview(silencer_client, tag):
    snapshot_alert("f1", alertname="DiskFull", test_id=tag)
    response = preview(silencer_client, ("test_id", "=~", "("))
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "invalid regular expression '('" in page
    assert "would be silenced" not in page
