"""Every request has an id: the caller's `X-Request-ID` when it is sane, else a new one.

The id is answered in `X-Request-ID` on every response (errors and 404s too, as this
middleware wraps everything) and handed to the views in `request.state.request_id`,
which pass it to the services, which store it on each audit event the request causes.
An incoming id longer than 128 characters, empty, or holding anything but visible
ASCII is replaced, so a log or an audit row never carries a client's control bytes.
"""

import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roster.domain.ids import new_id

HEADER = "x-request-id"
MAX_LENGTH = 128
SANE = re.compile(rb"[\x21-\x7e]{1,%d}" % MAX_LENGTH)


def request_id_from(incoming: bytes | None) -> str:
    """The caller's id if it is sane, else a new one."""
    if incoming is not None and SANE.fullmatch(incoming):
        return incoming.decode("ascii")
    return new_id("req")


class RequestIds:
    """Pure ASGI: no body is buffered and streaming responses stay streaming."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = [v for k, v in scope["headers"] if k == HEADER.encode()]
        request_id = request_id_from(incoming[0] if len(incoming) == 1 else None)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)
