"""POST one JSON notice to one webhook, with a timeout, sorting failures into retry or give up.

Error messages never include the URL: a Slack incoming-webhook URL is its own secret, and these
messages end up in logs and in the admin.
"""

import requests
from django.conf import settings

MAX_ERROR_BODY = 200


class NoticeFailed(Exception):
    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.message = message
        self.retryable = retryable


def post_json(url: str, payload: dict) -> None:
    timeout = settings.NOTIFY_TIMEOUT
    try:
        # No redirects: a webhook that redirects is misconfigured, and following it would send
        # the notice somewhere nobody configured.
        response = requests.post(
            url,
            json=payload,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
            headers={"User-Agent": "alertui-notices"},
        )
    except requests.Timeout:
        raise NoticeFailed(f"no answer within {timeout}s", retryable=True) from None
    except requests.ConnectionError:
        raise NoticeFailed("could not connect", retryable=True) from None
    except requests.RequestException as e:
        raise NoticeFailed(f"could not send ({type(e).__name__})", retryable=False) from None
    with response:
        if 200 <= response.status_code < 300:
            return
        try:
            # Read only the start of the body: enough for Slack's "invalid_token" and the like.
            body = response.raw.read(MAX_ERROR_BODY, decode_content=True)
            detail = body.decode("utf-8", "replace").strip()
        except Exception:  # noqa: BLE001 - the status is what matters
            detail = ""
    status = response.status_code
    # 408 and 429 ask to try again later; other 4xx mean the request itself is wrong (a deleted
    # Slack webhook answers 404 or 410), and sending it again would not help.
    retryable = status >= 500 or status in (408, 429)
    message = f"HTTP {status}" + (f": {detail}" if detail else "")
    raise NoticeFailed(message, retryable=retryable)
