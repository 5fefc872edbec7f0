"""Reading the alerts page as a user does, for the alerts page tests: its groups, alerts and
links, and a sync that waits out another test run's lock."""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser

from alertui.alerts.sync import sync_alerts
from tests.servers import make_alert

# -- fixtures --------------------------------------------------------------------------------


def sync(timeout: float = 20):
    """sync_alerts(), waiting while another run (another test session on the same Redis) holds
    the sync lock."""
    deadline = time.monotonic() + timeout
    while True:
        result = sync_alerts()
        if not result.skipped:
            return result
        assert time.monotonic() < deadline, "the sync lock stayed taken"
        time.sleep(0.1)


def fire(am, tag, *alerts):
    """Push (labels, annotations) pairs, each labelled test=<tag>, then sync."""
    am.push_alerts(
        [make_alert({**labels, "test": tag}, annotations) for labels, annotations in alerts]
    )
    assert sync().error == ""


# -- reading the page ------------------------------------------------------------------------


@dataclass
class ShownAlert:
    name: str
    state: str
    fingerprint: str
    html: str


@dataclass
class Group:
    heading: str
    counts: list[str]
    alerts: list[ShownAlert]
    html: str
    links: list[tuple[str, str]] = field(default_factory=list)

    def names(self) -> list[str]:
        return sorted(a.name for a in self.alerts)

    def link(self, text: str) -> str | None:
        return next((href for href, t in self.links if t == text), None)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._open: list[list] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._open.append([dict(attrs).get("href"), ""])

    def handle_data(self, data):
        for entry in self._open:
            entry[1] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._open:
            href, text = self._open.pop()
            self.links.append((href, " ".join(text.split())))


def links(fragment: str) -> list[tuple[str, str]]:
    """(href, text) of every <a> in the fragment; href unescaped as a browser would."""
    parser = _Links()
    parser.feed(fragment)
    parser.close()
    return parser.links


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def parse_alerts(fragment: str) -> list[ShownAlert]:
    found = []
    for m in re.finditer(
        r'<details class="alert (\w+)" data-key="([^"]*)">(.*?)</details>', fragment, re.S
    ):
        name = re.search(r"<strong>(.*?)</strong>", m[3], re.S)
        found.append(ShownAlert(html.unescape(name[1]) if name else "", m[1], m[2], m[3]))
    return found


def groups(page: str) -> list[Group]:
    found = []
    for chunk in page.split('<section class="group"')[1:]:
        body = chunk.split("</section>")[0]
        header = body.split("</header>")[0]
        heading = re.search(r"<h2>(.*?)</h2>", header, re.S)
        counts = [
            text(c) for c in re.findall(r'<span class="(?:badge|sev) [^"]*">.*?</span>', header)
        ]
        found.append(
            Group(
                text(heading[1]) if heading else "", counts, parse_alerts(body), body, links(body)
            )
        )
    return found


def group_named(page: str, heading: str) -> Group:
    matching = [g for g in groups(page) if g.heading == heading]
    assert len(matching) == 1, f"groups: {[g.heading for g in groups(page)]}"
    return matching[0]


def shown_names(page: str) -> list[str]:
    return sorted(a.name for a in parse_alerts(page))


def alerts_page(client, tag, q="", **params) -> str:
    """The alerts page filtered on this test's alerts (plus `q`), as HTML text."""
    if q.startswith("{"):  # Alertmanager's {a="b", ...} form: ours goes inside the braces
        params["q"] = f'{{test="{tag}", {q[1:]}'
    else:
        params["q"] = f'test="{tag}" {q}'.strip()
    response = client.get("/alerts/", params)
    assert response.status_code == 200
    return response.content.decode()


def error_banners(page: str) -> list[str]:
    return [text(e) for e in re.findall(r'<p class="error" role="alert">(.*?)</p>', page, re.S)]


def row(page: str, fingerprint: str) -> str:
    """The whole row of one alert (its details and what is shown under them), as HTML."""
    start = page.index(f'<div class="alert-row" data-row="{fingerprint}">')
    ends = [page.find(m, start + 1) for m in ('<div class="alert-row"', "</section>")]
    return page[start : min(e for e in ends if e != -1)]


def row_extras(page: str, fingerprint: str) -> str:
    """What the row shows under its one-line summary without being opened, as text."""
    found = row(page, fingerprint).split('<div class="row-extras">', 1)
    # As read: no space left by a closing tag before punctuation.
    return re.sub(r"\s+([,.:)])", r"\1", text(found[1])) if len(found) == 2 else ""
