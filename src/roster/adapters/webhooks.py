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
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from roster.domain import network

TIMEOUT = 10.0  # seconds; a slow receiver is a failed attempt, retried later
RESPONSE_KEPT = 1024  # bytes of the receiver's answer kept with the attempt
DRAINED = 64 * 1024  # more of an answer than this, and its connection is not reused
_PORTS = {"http": 80, "https": 443}
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


Origin = tuple[str, str, int]  # scheme, host, port
STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class Poster:
    """Sends webhooks, keeping one connection open per destination (scheme, host and
    port) while it lives: a batch to one receiver pays for one TCP and TLS
    handshake, not one per delivery. Close it (or use `with`) when the batch is done.

    Any 2xx is delivered; anything else (or no answer within `timeout`) failed.
    Redirects are answers, never followed: following one could carry a signed body
    somewhere the admin never configured. Unless `allow_private`, a destination
    inside the network is refused before the connection (its resolved addresses)
    and at it (the address connected to, before anything is sent).
    """

    def __init__(self, *, allow_private: bool = False, timeout: float = TIMEOUT) -> None:
        self.allow_private = allow_private
        self.timeout = timeout
        self.open: dict[Origin, http.client.HTTPConnection] = {}

    def __enter__(self) -> "Poster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for conn in self.open.values():
            conn.close()
        self.open.clear()

    def __call__(self, url: str, head: dict[str, str], body: bytes) -> Attempt:
        started = time.monotonic()
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return Attempt(None, "only http and https addresses are sent to", 0)
        try:
            origin = (parts.scheme, parts.hostname, parts.port or _PORTS[parts.scheme])
        except ValueError as bad:  # a port out of range
            return Attempt(None, str(bad)[:500], 0)
        reused = origin in self.open
        if not reused and not self.allow_private and (refusal := inside_refusal(url)):
            return Attempt(None, refusal[:500], 0)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            try:
                code, answer = self._post(origin, target, head, body)
            except STALE:
                if not reused:
                    raise
                code, answer = self._post(origin, target, head, body)  # closed while idle
        except (OSError, http.client.HTTPException, ValueError) as down:
            self._drop(origin)
            code, answer = None, str(down)[:500] or type(down).__name__
        ms = int((time.monotonic() - started) * 1000)
        if code is None:
            return Attempt(None, answer, ms)
        error = None if 200 <= code < 300 else f"HTTP {code}"
        return Attempt(code, error, ms, answer or None)

    def _post(
        self, origin: Origin, target: str, head: dict[str, str], body: bytes
    ) -> tuple[int, str]:
        conn = self.open.get(origin) or self._connect(origin)
        try:
            conn.request("POST", target, body=body, headers=head)
            response = conn.getresponse()
            kept = response.read(RESPONSE_KEPT)
            response.read(DRAINED)  # the rest of a short answer, so the connection serves again
        except BaseException:
            self._drop(origin)
            raise
        if response.will_close or not response.isclosed():
            self._drop(origin)
        return response.status, kept.decode("utf-8", "replace")

    def _connect(self, origin: Origin) -> http.client.HTTPConnection:
        scheme, host, port = origin
        conn: http.client.HTTPConnection
        if scheme == "https":
            kind = http.client.HTTPSConnection if self.allow_private else _GuardedHTTPS
            conn = kind(host, port, timeout=self.timeout, context=ssl.create_default_context())
        else:
            kind_ = http.client.HTTPConnection if self.allow_private else _GuardedHTTP
            conn = kind_(host, port, timeout=self.timeout)
        self.open[origin] = conn
        return conn

    def _drop(self, origin: Origin) -> None:
        if (conn := self.open.pop(origin, None)) is not None:
            conn.close()
