"""/targets/ with many failing targets: paged 100 at a time, from the row cells the targets
sync renders and stores (alertui.targets.rows), which follow the data at each sync and are
never shown when rendered by another version of the row template.

A real Prometheus 2.42 of the test's own, with a job of MANY targets on ports where nothing
listens, scraped once an hour (each fails: "unknown" until its first scrape, then "down").
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alertui.targets import rows
from alertui.targets.models import FailingTarget
from alertui.targets.views import PAGE_SIZE
from tests.servers import PrometheusProcess, free_port, wait_until
from tests.test_targets import TARGET_TIMEOUT, page, raw_target, row_of, sync_from, text_of

pytestmark = pytest.mark.django_db

MANY = 130


@pytest.fixture(scope="module")
def crowded(tmp_path_factory):
    """A settled Prometheus whose job "many" has MANY failing targets (plus "broken" and
    "hanging" of every test Prometheus)."""
    ports = sorted({free_port() for _ in range(MANY)})
    targets = ", ".join(f"'127.0.0.1:{p}'" for p in ports)
    extra = f"""
    - job_name: many
      scrape_interval: 1h
      scrape_timeout: 1s
      static_configs:
        - targets: [{targets}]
    """
    prom = PrometheusProcess("2.42", tmp_path_factory.mktemp("crowded"), extra_scrape_configs=extra)
    prom.start()
    try:
        prom.wait_settled()
        wait_until(
            lambda: (
                len([t for t in prom.raw_targets()["activeTargets"] if t["scrapePool"] == "many"])
                == len(ports)
            ),
            TARGET_TIMEOUT,
            "the many targets to be discovered",
        )
        prom.failing = len(ports) + 2
        yield prom
    finally:
        prom.stop()


ROW = re.compile(r"<tr>\s*<td data-label=\"Endpoint\"><code>([^<]+)</code>")


def endpoints(html: str) -> list[str]:
    return ROW.findall(html)


def test_it_pages_the_failing_targets(crowded, settings, redis_db, viewer_client):
    sync_from(settings, crowded.url)
    total = crowded.failing
    assert FailingTarget.objects.count() == total

    first = page(viewer_client, "/targets/")
    second = page(viewer_client, "/targets/", page="2")

    assert f"{total} failing scrape targets. Showing 1–{PAGE_SIZE}." in text_of(first)
    assert f"Showing {PAGE_SIZE + 1}–{total}." in text_of(second)
    shown = endpoints(first) + endpoints(second)
    assert len(endpoints(first)) == PAGE_SIZE
    assert sorted(shown) == sorted(FailingTarget.objects.values_list("scrape_url", flat=True))
    assert len(set(shown)) == total
    assert 'href="?page=2"' in first and 'href="?page=1"' in second
    # A pool split over both pages is headed on each, with its whole count.
    for html in (first, second):
        assert re.search(rf"<h3>many <span[^>]*>{total - 2} failing</span>", html)
    # The parts that are not failing targets show on every page.
    for html in (first, second):
        assert "Rules that fail to evaluate" in html and "Jobs with no targets at all" in html
    # A page past the end is the last one; a page that is no number, the first.
    assert endpoints(page(viewer_client, "/targets/", page="99")) == endpoints(second)
    assert endpoints(page(viewer_client, "/targets/", page="x<script>")) == endpoints(first)


def test_a_page_reads_no_more_for_more_targets(crowded, settings, redis_db, viewer_client):
    """The page's database reads do not grow with the failing targets: no query per row."""
    sync_from(settings, crowded.url)
    reads = []
    for number in ("1", "2"):  # 100 targets, then 31
        with CaptureQueriesContext(connection) as queries:
            page(viewer_client, "/targets/", page=number)
        reads.append(len(queries))

    assert reads[0] == reads[1]
    assert reads[0] < 20


def test_the_htmx_poll_keeps_its_page(crowded, settings, redis_db, viewer_client):
    sync_from(settings, crowded.url)

    response = viewer_client.get("/targets/", {"page": "2"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert len(endpoints(html)) == crowded.failing - PAGE_SIZE
    assert "hx-swap-oob" in html and f"{crowded.failing} targets down" in text_of(html)


def test_the_stored_cells_follow_each_sync(crowded, settings, redis_db, viewer_client):
    sync_from(settings, crowded.url)
    broken = f"http://{crowded.broken_target}/metrics"
    # The row as an earlier sync could have left it: another error, cells rendered from it.
    target = FailingTarget.objects.get(scrape_url=broken)
    target.last_error = "an error of long ago"
    rows.refresh(target, rows.template_version())
    target.save()
    assert "an error of long ago" in row_of(page(viewer_client, "/targets/"), broken)

    sync_from(settings, crowded.url)
    row = row_of(page(viewer_client, "/targets/"), broken)

    assert "an error of long ago" not in row and "connection refused" in row


def test_the_last_scrape_shown_is_the_last_synced(crowded, settings, redis_db, viewer_client):
    sync_from(settings, crowded.url)
    broken = f"http://{crowded.broken_target}/metrics"
    shown = text_of(row_of(page(viewer_client, "/targets/"), broken))
    scraped = raw_target(crowded, "broken")["lastScrape"]

    # "broken" is scraped every second: once Prometheus has scraped it again, the next sync
    # stores, and the page shows, the new last scrape (its cells are not rendered again).
    wait_until(
        lambda: raw_target(crowded, "broken")["lastScrape"] != scraped,
        TARGET_TIMEOUT,
        "another scrape of the broken target",
    )
    sync_from(settings, crowded.url)
    again = text_of(row_of(page(viewer_client, "/targets/"), broken))

    assert again != shown
    stored = FailingTarget.objects.get(scrape_url=broken)
    assert f"{stored.last_scrape:%Y-%m-%d %H:%M:%S} UTC ({stored.last_scrape_duration:.3f}s)" in (
        again
    )
    hanging = text_of(
        row_of(page(viewer_client, "/targets/"), f"http://{crowded.hanging_target}/metrics")
    )
    assert "never" in hanging


def test_cells_of_another_template_version_are_never_shown(
    crowded, settings, redis_db, viewer_client
):
    sync_from(settings, crowded.url)
    broken = f"http://{crowded.broken_target}/metrics"
    # As rows stored before an upgrade that changed the row template would be.
    FailingTarget.objects.update(row_html="<td>OLD CELLS</td>", row_template="0" * 16)

    html = page(viewer_client, "/targets/")

    assert "OLD CELLS" not in html
    assert len(endpoints(html)) == PAGE_SIZE
    assert "connection refused" in row_of(html, broken)
    sync_from(settings, crowded.url)  # and the next sync stores them again
    version = rows.template_version()
    assert not FailingTarget.objects.exclude(row_template=version).exists()
    assert not FailingTarget.objects.filter(row_html__contains="OLD CELLS").exists()


def test_a_label_value_is_escaped_in_the_stored_cells(crowded, settings, redis_db, viewer_client):
    sync_from(settings, crowded.url)
    target = FailingTarget.objects.get(job="broken")
    target.labels = {**target.labels, "team": '<script>alert("x")</script>'}
    rows.refresh(target, rows.template_version())
    target.save()

    row = row_of(page(viewer_client, "/targets/"), target.scrape_url)

    assert "<script>" not in row
    assert "&lt;script&gt;" in row


def test_it_shows_one_job_on_pages_that_keep_the_filter(crowded, settings, redis_db, viewer_client):
    sync_from(settings, crowded.url)
    many = crowded.failing - 2

    first = page(viewer_client, "/targets/", job="many")
    second = page(viewer_client, "/targets/", job="many", page="2")
    broken = page(viewer_client, "/targets/", job="broken")

    assert f"{many} failing scrape targets of job many . Showing 1–{PAGE_SIZE}." in text_of(first)
    assert 'href="?job=many&page=2"' in first
    assert len(endpoints(first)) + len(endpoints(second)) == many
    assert all(":" in e and crowded.broken_target not in e for e in endpoints(first))
    assert endpoints(broken) == [f"http://{crowded.broken_target}/metrics"]
    # The job choice lists the jobs with failing targets, the chosen one selected.
    assert (
        '<option value="many" selected>many</option>'
        in broken.replace('<option value="many">', '<option value="many" selected>')
        and '<option value="broken" selected>broken</option>' in broken
    )


def test_a_job_or_cluster_that_names_nothing_shows_nothing(
    crowded, settings, redis_db, viewer_client
):
    sync_from(settings, crowded.url)

    for params in ({"job": "<b>no such job</b>"}, {"cluster": "nowhere"}, {"job": "x" * 5000}):
        html = page(viewer_client, "/targets/", **params)
        assert "0 failing scrape targets" in text_of(html)
        assert endpoints(html) == []
        assert "<b>no such job</b>" not in html
