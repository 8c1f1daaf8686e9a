"""Sending one webhook, signed the Standard Webhooks way (standardwebhooks.com).

Headers: `webhook-id` (the message id, the same on every retry so receivers can
drop duplicates), `webhook-timestamp` (Unix seconds), and `webhook-signature`:
`v1,` + base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}`, keyed with the
base64 secret after its `whsec_` prefix.
"""

import base64
import hashlib
import hmac
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TIMEOUT = 10.0  # seconds; a slow receiver is a failed attempt, retried later
USER_AGENT = "Roster-Webhooks/1"


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    mac = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one POST got: a status code, or the error that stopped it."""

    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


Sender = Callable[[str, dict[str, str], bytes], Attempt]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer, not an instruction: following it could carry a signed
    # body somewhere the admin never configured.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(url: str, head: dict[str, str], body: bytes) -> Attempt:
    """POST the body; any 2xx is delivered, anything else (or no answer) failed."""
    started = time.monotonic()
    if not url.startswith(("http://", "https://")):  # rules only save http(s) addresses
        return Attempt(None, "only http and https addresses are sent to", 0)
    request = urllib.request.Request(url, data=body, headers=head, method="POST")  # noqa: S310 - scheme checked above
    try:
        with _opener.open(request, timeout=TIMEOUT) as response:
            code, error = int(response.status), None
    except urllib.error.HTTPError as answered:
        code, error = answered.code, f"HTTP {answered.code}"
    except (urllib.error.URLError, OSError, ValueError) as down:
        code, error = None, str(getattr(down, "reason", down))[:500]
    return Attempt(code, error, int((time.monotonic() - started) * 1000))
