"""POST one JSON notice to one webhook, with a timeout, sorting failures into retry or give up.

Error messages never include the URL: a Slack incoming-webhook URL is its own secret, and these
messages end up in logs and in the admin.
"""

import requests
from django.conf import settings

from alertui.integrations.http import deadline, watched_session

MAX_ERROR_BODY = 200


class NoticeFailed(Exception):
    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.message = message
        self.retryable = retryable


def post_json(url: str, payload: dict) -> None:
    timeout = settings.NOTIFY_TIMEOUT
    too_late = NoticeFailed(f"no answer within {timeout}s", retryable=True)
    # The timeout bounds the whole delivery, not each read: a receiver sending its answer a
    # byte at a time would otherwise hold the worker (which runs the syncs too) for as long as
    # it liked.
    with watched_session() as session, deadline(timeout) as watch:
        try:
            # No redirects: a webhook that redirects is misconfigured, and following it would
            # send the notice somewhere nobody configured.
            response = session.post(
                url,
                json=payload,
                timeout=timeout,
                allow_redirects=False,
                stream=True,
                headers={"User-Agent": "alertui-notices"},
            )
        except requests.RequestException as e:
            if watch.expired or isinstance(e, requests.Timeout):
                raise too_late from None
            if isinstance(e, requests.ConnectionError):
                raise NoticeFailed("could not connect", retryable=True) from None
            raise NoticeFailed(f"could not send ({type(e).__name__})", retryable=False) from None
        with response:
            detail = ""
            if not 200 <= response.status_code < 300:
                try:
                    # Only the start of the body: enough for Slack's "invalid_token" and such.
                    body = response.raw.read(MAX_ERROR_BODY, decode_content=True)
                    detail = body.decode("utf-8", "replace").strip()
                except Exception:  # noqa: BLE001 - the status is what matters
                    pass
        if watch.expired:
            # Cut off while the status line or the headers trickled in: what arrived is no
            # answer to trust.
            raise too_late
    status = response.status_code
    if 200 <= status < 300:
        return
    # 408 and 429 ask to try again later; other 4xx mean the request itself is wrong (a deleted
    # Slack webhook answers 404 or 410), and sending it again would not help.
    retryable = status >= 500 or status in (408, 429)
    message = f"HTTP {status}" + (f": {detail}" if detail else "")
    raise NoticeFailed(message, retryable=retryable)
