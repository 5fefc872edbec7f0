"""The alerts page's in-process caches stay within their memory budget (ALERTS_CACHE_MB), are
keyed by what the page shows rather than by the raw query string, and are emptied when the
snapshot changes.

Memory is measured with tracemalloc (what the requests left allocated in this process), and
with the caches' own accounting; never with timings. The snapshots are Alert rows written
directly (as the pagination tests do), except where a real sync from Alertmanager 0.25 is what
changes the snapshot.
"""

from __future__ import annotations

import gc
import os
import random
import tracemalloc
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from alertui.alerts import rendering, snapshot, views
from alertui.alerts.models import Alert
from alertui.caches import MB
from alertui.matchers import _compiled
from tests.alerts_page_reading import fire, links, shown_names
from tests.snapshots import publish_snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]


def big_snapshot(tag: str, count: int = 2000) -> None:
    """`count` alerts in groups of 5 (small enough to be shown whole, not collapsed), each with
    a description, so a page of 25 groups is about 300 KB of HTML."""
    now = timezone.now()
    Alert.objects.bulk_create(
        [
            Alert(
                fingerprint=f"{tag}-{i}",
                alertname=f"Group{i // 5:04}",
                severity="warning",
                labels={"alertname": f"Group{i // 5:04}", "test": tag, "pod": f"pod-{i}"},
                annotations={"summary": f"alert {i}", "description": f"{i} " + "d" * 1200},
                state="active",
                starts_at=now - timedelta(seconds=i),
            )
            for i in range(count)
        ],
        batch_size=1000,
    )
    publish_snapshot()


def results(client, params) -> str:
    """The results part of the page (what the htmx poll fetches), for a list of pairs."""
    response = client.get("/alerts/?" + urlencode(params), headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content.decode().split('<span id="nav-counts"')[0]


@contextmanager
def memory_kept():
    """What the block left allocated, in bytes: `kept[0]` once the block is done."""
    gc.collect()
    tracemalloc.start()
    kept = [0]
    try:
        yield kept
        gc.collect()
        kept[0] = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


@pytest.fixture
def empty_caches():
    """The process-wide caches, empty (the budget setting may change per test)."""
    for cache in (views._rendered_pages, snapshot._views, rendering._cache):
        cache.clear()


def test_it_keeps_one_page_for_requests_that_differ_only_in_unknown_parameters(
    silencer_client, tag, empty_caches
):
    big_snapshot(tag)
    wanted = [("q", f'test="{tag}"'), ("state", "active")]
    first = results(silencer_client, wanted + [("junk", "0")])
    assert len(first) > 200_000

    with memory_kept() as kept:
        for n in range(1, 41):
            params = wanted + [("junk", str(n)), (f"other{n}", "x")]
            random.Random(n).shuffle(params)  # and in any order
            assert results(silencer_client, params) == first
        # Without the state parameter the page shows the same: the default, active alerts.
        assert results(silencer_client, [("q", f'test="{tag}"')]) == first

    # 40 more copies of the page would be 12 MB.
    assert kept[0] < 1 * MB, f"the requests left {kept[0]} bytes allocated"
    assert len(views._rendered_pages) == 1
    assert not [href for href, _ in links(first) if "junk" in href]


def test_it_evicts_older_pages_when_distinct_filters_exceed_the_budget(
    settings, silencer_client, tag, empty_caches
):
    settings.ALERTS_CACHE_MB = 4
    big_snapshot(tag)

    def q(n: int) -> list[tuple[str, str]]:
        # Distinct filters, each matching every alert: a full page each (700 KB as a str).
        return [("q", f'test="{tag}" other!="{n}"')]

    results(silencer_client, q(0))  # the snapshot loaded, outside the measure
    with memory_kept() as kept:
        for n in range(1, 21):
            assert len(results(silencer_client, q(n))) > 200_000
    # 20 pages would be 14 MB; all the caches together may hold 4 MB.
    assert kept[0] < 5 * MB, f"the requests left {kept[0]} bytes allocated"

    pages = views._rendered_pages
    assert 0 < pages.size <= pages.budget == int(0.4 * 4 * MB)
    assert 1 < len(pages) < 20
    for cache in (snapshot._views, rendering._cache):
        assert cache.size <= cache.budget

    hits, misses = pages.hits, pages.misses
    results(silencer_client, q(20))  # the newest is still there
    assert (pages.hits, pages.misses) == (hits + 1, misses)
    results(silencer_client, q(1))  # the oldest was evicted: rendered again
    assert (pages.hits, pages.misses) == (hits + 1, misses + 1)


def test_it_keeps_each_alerts_html_within_its_share_of_the_budget(
    settings, silencer_client, tag, empty_caches
):
    settings.ALERTS_CACHE_MB = 2
    big_snapshot(tag, 3000)
    results(silencer_client, [("q", f'test="{tag}"')])
    with memory_kept() as kept:
        # Every group expanded, page by page: 3,000 different alerts rendered.
        for page in range(1, 25):
            expand = [("expand", f"Group{g:04}") for g in range((page - 1) * 25, page * 25)]
            results(silencer_client, [("q", f'test="{tag}"'), ("page", str(page))] + expand)
    assert kept[0] < 3 * MB, f"the requests left {kept[0]} bytes allocated"
    assert 0 < rendering._cache.size <= rendering._cache.budget == int(0.3 * 2 * MB)


def test_it_empties_the_caches_when_a_sync_changes_the_snapshot(
    am, silencer_client, tag, empty_caches
):
    notes = {f"note{n}": f"{n} " + "x" * 1000 for n in range(50)}  # 50 KB of HTML
    fire(am, tag, ({"alertname": "Before", "team": "a"}, notes))
    filters = [f'test="{tag}" team!="{n}"' for n in range(30)]
    results(silencer_client, [("q", f'test="{tag}"')])  # what any request loads, unmeasured

    with memory_kept() as kept:
        for q in filters:
            assert shown_names(results(silencer_client, [("q", q)])) == ["Before"]
        fire(am, tag, ({"alertname": "After", "team": "b"}, None))
        # The next request after the sync shows the change...
        assert shown_names(results(silencer_client, [("q", filters[0])])) == ["After", "Before"]
    # ...and nothing of the old snapshot is kept: its 30 pages would be 1.5 MB.
    page = len(results(silencer_client, [("q", filters[0])]))
    assert page > 50_000
    assert kept[0] < 5 * page + 200_000, f"the requests left {kept[0]} bytes allocated"
    assert len(views._rendered_pages) == 1
    assert len(snapshot._views) == 2  # one filtered view, one overview


def resident_memory() -> int:
    """This process's resident memory: RE2 allocates outside what tracemalloc sees."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def test_it_bounds_the_compiled_filter_regexes(settings, silencer_client, tag, empty_caches):
    settings.ALERTS_CACHE_MB = 64
    big_snapshot(tag, 20)
    results(silencer_client, [("q", f'test="{tag}" pod=~"x"')])
    before = resident_memory()
    for n in range(40):
        # A 20-character regex that RE2 compiles to 2 MB (after a matcher that matches no
        # alert, so the test spends its time compiling, not matching).
        q = f'test="none" pod=~"{n}\\\\pL{{1,100}}"'
        page = results(silencer_client, [("q", q)])
        assert "0 alerts in 0 groups" in page
    grown = resident_memory() - before
    # Kept, they would take 80 MB.
    assert grown < 40 * MB, f"resident memory grew by {grown // MB} MB"
    assert 0 < _compiled.size <= _compiled.budget == int(0.1 * 64 * MB)


# -- a worker starting ------------------------------------------------------------------------


def test_a_starting_worker_loads_the_snapshot_before_its_first_request(
    tag, django_assert_max_num_queries
):
    big_snapshot(tag, count=50)
    snapshot.warm()
    # The first request then asks only which version is current: it reads no alert row.
    with django_assert_max_num_queries(1):
        assert len(snapshot.current_alerts()) == 50


def test_a_start_without_a_database_leaves_the_load_to_the_first_request(
    tag, settings, monkeypatch, caplog
):
    def unreachable():
        raise ConnectionError("database down")

    monkeypatch.setattr(snapshot, "current_alerts", unreachable)
    snapshot.warm()  # does not raise: the worker still starts
    assert "alert snapshot not loaded at start" in caplog.text
    monkeypatch.undo()
    big_snapshot(tag, count=5)
    assert len(snapshot.current_alerts()) == 5


@pytest.mark.parametrize("who", ["silencer_client", "viewer_client"])
def test_a_starting_worker_prepares_the_default_alerts_view(tag, who, request, monkeypatch):
    """alertui/wsgi.py calls views.warm: the first request finds the default view (all active
    alerts, grouped by alertname) selected, grouped and its results rendered for its rights."""
    big_snapshot(tag, count=50)
    views.warm()

    def not_again(*args, **kwargs):
        raise AssertionError("the first request did the work again")

    monkeypatch.setattr(snapshot, "select", not_again)
    monkeypatch.setattr(views, "render_to_string", not_again)
    page = request.getfixturevalue(who).get("/alerts/")
    assert page.status_code == 200
    assert page.content.decode().count('class="alert-row') == 50
    assert page.content.decode().count("silence-link") == (50 if who == "silencer_client" else 0)
