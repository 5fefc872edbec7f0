"""Where a silence page sends the person back to: the `next` parameter, checked.

Links from the alerts page carry `next=<that page with its filter>`, so that after silencing
an alert the person is back in the view they were working in. A `next` is only ever a path on
this site: anything else would make alertui an open redirect (a phishing link starting with
alertui's own address).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.utils.http import url_has_allowed_host_and_scheme

MAX_LENGTH = 2000


def safe_next(value: object) -> str:
    """`value` when it is a relative URL on this site (a path, with a query), else ""."""
    if not isinstance(value, str) or not value or len(value) > MAX_LENGTH:
        return ""
    # "//host" and "/\host" are other sites to a browser, and browsers drop tabs and newlines
    # from URLs, so "/\t/host" is "//host": refuse backslashes, whitespace and control
    # characters outright rather than guess how each browser reads them.
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return ""
    if any(c.isspace() or not c.isprintable() for c in value):
        return ""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return ""
    if not url_has_allowed_host_and_scheme(value, allowed_hosts=None):
        return ""
    return value


def next_from(request) -> str:
    """The checked `next` of a request: from the form on a POST, else from the query."""
    source = request.POST if request.method == "POST" else request.GET
    return safe_next(source.get("next", ""))
