"""A silence made in two clusters from the alerts page, found twice on /audit/, in a real
browser (Debian's Chromium through Playwright against `live_server`, as tests/browsing.py)
with the three real clusters of tests/test_clusters.py."""

import re

import pytest
from playwright.sync_api import expect

from alertui.silences.models import Silence
from tests import test_clusters
from tests.browsing import WAIT
from tests.test_browser_alerts import log_in
from tests.test_clusters import sync

world, three = test_clusters.world, test_clusters.three  # the three clusters, started here

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_silence_made_in_two_clusters_from_the_alerts_page_shows_twice_in_the_audit(
    browsing, live_server, three, silencer, tag
):
    for name in ("eu", "us", "staging"):
        three.push(name, "BrowserAlert", tag)
    sync("--kind", "alerts")
    b, page, base = browsing, browsing.page, live_server.url
    log_in(b, base, "alice", next_path="/alerts/?" + f"q=test%3D%22{tag}%22")

    row = page.locator(".alert-row").filter(has=page.locator(".cluster", has_text="eu"))
    expect(row).to_have_count(1, timeout=WAIT)
    row.locator("summary").click()
    row.get_by_role("link", name="Silence").click()
    expect(page.get_by_role("heading", name="New silence")).to_be_visible(timeout=WAIT)
    clusters = page.get_by_role("group", name="Clusters")
    expect(clusters.get_by_label("eu")).to_be_checked(timeout=WAIT)
    expect(clusters.get_by_label("us")).not_to_be_checked()
    clusters.get_by_label("us").check()
    page.get_by_label(re.compile("^Comment")).fill(f"two clusters {tag}")
    page.get_by_role("button", name="Create silence").click()

    status = page.get_by_role("status")
    expect(status).to_contain_text("eu: ", timeout=WAIT)
    expect(status).to_contain_text("us: ", timeout=WAIT)
    page.goto(f"{base}/audit/?text={tag}")
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(2, timeout=WAIT)
    shown = sorted(rows.nth(i).locator("td[data-label=Cluster]").inner_text() for i in range(2))
    assert shown == ["eu", "us"]
    made = Silence.objects.filter(comment=f"two clusters {tag}")
    assert sorted(made.values_list("cluster", flat=True)) == ["eu", "us"]
    assert b.unexpected_errors() == []
