"""Sending one webhook, signed the Standard Webhooks way (standardwebhooks.com).

Headers: `webhook-id` (the message id, the same on every retry so receivers can
drop duplicates), `webhook-timestamp` (Unix seconds), and `webhook-signature`:
`v1,` + base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}`, keyed with the
base64 secret after its `whsec_` prefix.
"""

import base64
import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from roster.domain import network

TIMEOUT = 10.0  # seconds; a slow receiver is a failed attempt, retried later
RESPONSE_KEPT = 1024  # bytes of the receiver's answer kept with the attempt
USER_AGENT = "Roster-Webhooks/1"


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    mac = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(
    secrets: str | Sequence[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The Standard Webhooks headers; with several secrets (during a rotation) one
    signature per secret, space-separated, any of which a receiver may verify."""
    keys = [secrets] if isinstance(secrets, str) else secrets
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(k, msg_id, timestamp, body) for k in keys),
    }


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one POST got: a status code, or the error that stopped it."""

    status_code: int | None
    error: str | None
    duration_ms: int
    response: str | None = None  # the first RESPONSE_KEPT bytes of the answer

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


Sender = Callable[[str, dict[str, str], bytes], Attempt]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer, not an instruction: following it could carry a signed
    # body somewhere the admin never configured.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Inside(OSError):
    """The destination is (or resolves to) an address inside the network."""


def _check_peer(sock: socket.socket | None) -> None:
    """Refuse a connection that reached an inside address, before anything is sent on
    it: a name may resolve to another address than it did a moment ago (rebinding)."""
    if sock is None:
        return
    peer = sock.getpeername()[0]
    kind = network.inside(ipaddress.ip_address(peer.split("%", 1)[0]))
    if kind is not None:
        sock.close()
        raise Inside(f"connected to {peer}, {kind}; webhooks are only sent to public addresses")


class _GuardedHTTP(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _check_peer(self.sock)


class _GuardedHTTPS(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()  # TCP and the TLS handshake: the request is not sent yet
        _check_peer(self.sock)


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_GuardedHTTP, req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_GuardedHTTPS, req, context=ssl.create_default_context())


_opener = urllib.request.build_opener(_NoRedirects)
_guarded = urllib.request.build_opener(_NoRedirects, _GuardedHTTPHandler, _GuardedHTTPSHandler)


def inside_refusal(url: str) -> str | None:
    """Why `url` may not be sent to now (its host resolves inside), or None.

    Every address the host resolves to is judged: a name with one public and one
    private address is refused, since the connection could take either.
    """
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if (written := network.url_refusal(url)) is not None:
        return written
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as unknown:
        return f"{host} could not be resolved: {unknown}"
    for *_, sockaddr in found:
        address = str(sockaddr[0]).split("%", 1)[0]
        kind = network.inside(ipaddress.ip_address(address))
        if kind is not None:
            return (
                f"{host} resolves to {address}, {kind}; webhooks are only sent to public addresses."
            )
    return None


def post(
    url: str,
    head: dict[str, str],
    body: bytes,
    *,
    allow_private: bool = False,
    timeout: float = TIMEOUT,
) -> Attempt:
    """POST the body; any 2xx is delivered, anything else (or no answer) failed.

    Unless `allow_private`, a destination inside the network is refused before the
    connection (its resolved addresses) and at it (the address connected to).
    """
    started = time.monotonic()
    if not url.startswith(("http://", "https://")):  # rules only save http(s) addresses
        return Attempt(None, "only http and https addresses are sent to", 0)
    if not allow_private and (refusal := inside_refusal(url)) is not None:
        return Attempt(None, refusal[:500], 0)
    request = urllib.request.Request(url, data=body, headers=head, method="POST")  # noqa: S310 - scheme checked above
    opener = _opener if allow_private else _guarded
    answer: bytes | None = None
    try:
        with opener.open(request, timeout=timeout) as response:
            code, error = int(response.status), None
            answer = response.read(RESPONSE_KEPT)
    except urllib.error.HTTPError as answered:
        code, error = answered.code, f"HTTP {answered.code}"
        answer = _read(answered)
    except (urllib.error.URLError, OSError, ValueError) as down:
        code, error = None, str(getattr(down, "reason", down))[:500]
    kept = answer.decode("utf-8", "replace") if answer else None
    return Attempt(code, error, int((time.monotonic() - started) * 1000), kept)


def _read(answered: urllib.error.HTTPError) -> bytes | None:
    try:
        return answered.read(RESPONSE_KEPT)
    except OSError:  # the error's body timed out or was cut: the code is what counts
        return None
