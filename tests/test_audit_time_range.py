"""The audit page's time range: From/Until read in the viewer's zone (the hidden `tz` the page's
script fills, UTC without it), labelled with that zone, and the presets (last 24 h, 7 d, 30 d).

The browser side (the script filling `tz`, the presets in a real zone) is in
tests/test_browser_audit.py; here the server's half, with the events of test_audit_pages.py at
12:00 to 16:00 UTC on 2025-03-01 (07:00 to 11:00 in New York, UTC-5 that day).
"""

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import time_machine

from tests import test_audit_pages
from tests.test_audit_pages import T0, event, rows

history = test_audit_pages.history  # the fixture: five events at 12:00 to 16:00 UTC

NEW_YORK = "America/New_York"


def test_it_reads_since_and_until_in_the_zone_the_page_names(viewer_client, history):
    # 08:00 in New York is 13:00 UTC: the events at 13:00, 14:00, 15:00 and 16:00 UTC.
    response = viewer_client.get("/audit/", {"since": "2025-03-01T08:00", "tz": NEW_YORK})
    assert rows(response) == [
        "made with amtool",
        "longer please",
        "done early",
        "INC-4711 kernel update",
    ]
    # Until is exclusive: before 10:00 in New York is before 15:00 UTC.
    response = viewer_client.get(
        "/audit/", {"since": "2025-03-01T08:00", "until": "2025-03-01T10:00", "tz": NEW_YORK}
    )
    assert rows(response) == ["done early", "INC-4711 kernel update"]


def test_it_reads_them_as_utc_without_a_zone(viewer_client, history):
    assert len(rows(viewer_client.get("/audit/", {"since": "2025-03-01T08:00"}))) == 5
    page = viewer_client.get("/audit/").content.decode()
    assert re.search(r'<label for="id_since">From <span class="zone-name">\(UTC\)</span>', page)
    assert re.search(r'<label for="id_until">Until <span class="zone-name">\(UTC\)</span>', page)


def test_it_labels_the_fields_with_the_zone_it_reads_them_in(viewer_client, history):
    page = viewer_client.get("/audit/", {"tz": NEW_YORK}).content.decode()
    assert 'From <span class="zone-name">(America/New_York)</span>' in page
    assert 'Until <span class="zone-name">(America/New_York)</span>' in page
    assert '<input type="hidden" name="tz" value="America/New_York" data-viewer-zone>' in page


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "x" * 5000, ""])
def test_it_reads_an_unknown_zone_as_utc_without_an_error(viewer_client, history, zone):
    response = viewer_client.get("/audit/", {"since": "2025-03-01T15:30", "tz": zone})
    assert rows(response) == ["made with amtool"]
    page = response.content.decode()
    assert 'class="error"' not in page
    assert "(UTC)" in page


def test_a_time_with_an_offset_keeps_it_whatever_the_zone(viewer_client, history):
    response = viewer_client.get("/audit/", {"since": "2025-03-01T15:30+00:00", "tz": NEW_YORK})
    assert rows(response) == ["made with amtool"]


def test_the_csv_export_reads_the_range_in_the_same_zone(viewer_client, history):
    response = viewer_client.get("/audit/export.csv", {"since": "2025-03-01T10:30", "tz": NEW_YORK})
    text = b"".join(response.streaming_content).decode()
    assert text.count("\n") == 2  # the header and the event at 16:00 UTC (11:00 in New York)
    assert "made with amtool" in text


def preset_links(response) -> dict[str, dict[str, list[str]]]:
    page = response.content.decode()
    nav = re.search(r'<nav class="presets time-presets" aria-label="Time range">(.*?)</nav>', page)
    assert nav, "no time-range presets on the page"
    links = re.findall(r'<a class="button" href="\?([^"]*)" data-hours="\d+">([^<]+)</a>', nav[1])
    return {label: parse_qs(html.unescape(query)) for query, label in links}


@pytest.fixture
def spread(db):
    """Events 2 hours, 3 days, 10 days and 40 days before T0 + 5 h."""
    now = T0 + timedelta(hours=5)
    for back, comment in [
        (timedelta(hours=2), "two hours ago"),
        (timedelta(days=3), "three days ago"),
        (timedelta(days=10), "ten days ago"),
        (timedelta(days=40), "forty days ago"),
    ]:
        event(at=now - back, comment=comment, actor_name="pat")
    return now


def test_the_presets_link_to_the_last_24_hours_7_and_30_days(viewer_client, spread):
    with time_machine.travel(spread, tick=False):
        links = preset_links(viewer_client.get("/audit/", {"person": "pat", "page": "2"}))
        assert list(links) == ["Last 24 h", "Last 7 d", "Last 30 d"]
        # UTC without a zone; the other filters kept, the page and any until dropped.
        assert links["Last 24 h"] == {"person": ["pat"], "since": ["2025-02-28T17:00"]}
        assert links["Last 7 d"]["since"] == ["2025-02-22T17:00"]
        expected = {
            "Last 24 h": ["two hours ago"],
            "Last 7 d": ["two hours ago", "three days ago"],
            "Last 30 d": ["two hours ago", "three days ago", "ten days ago"],
        }
        for label, query in links.items():
            assert rows(viewer_client.get("/audit/", query)) == expected[label], label


def test_the_presets_keep_the_zone_the_page_reads_times_in(viewer_client, spread):
    with time_machine.travel(spread, tick=False):
        page = viewer_client.get("/audit/", {"tz": NEW_YORK, "until": "2025-03-01T00:00"})
        links = preset_links(page)
        # 17:00 UTC is 12:00 in New York.
        assert links["Last 24 h"] == {"since": ["2025-02-28T12:00"], "tz": [NEW_YORK]}
        assert rows(viewer_client.get("/audit/", links["Last 7 d"])) == [
            "two hours ago",
            "three days ago",
        ]


def test_hostile_filter_values_stay_inert_in_the_preset_links_and_labels(viewer_client, history):
    from tests.test_security import hostile, inert_problems

    response = viewer_client.get(
        "/audit/",
        {"person": hostile("person"), "text": hostile("text"), "tz": hostile("tz")},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert inert_problems(page) == []
    assert "(UTC)" in page  # the zone that is not one is read, and named, as UTC
    assert len(preset_links(response)) == 3
