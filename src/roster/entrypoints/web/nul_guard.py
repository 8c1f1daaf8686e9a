"""No NUL character in a URL or a form: refused before any route reads it.

A `%00` in a path, a query string or a form field is never part of an id, a
filter, a name or a password, and PostgreSQL cannot even compare text holding one
(it would surface as a 500). JSON bodies are checked by their models.
The answer is the route family's error shape: a SCIM Error under /scim/v2, an
RFC 9457 problem everywhere else.
"""

import json
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SCIM_PREFIX = "/scim/v2"
DETAIL = "The URL holds a NUL character (%00), which no id, filter or search may contain."
FORM_DETAIL = "The form holds a NUL character (%00), which no field may contain."
FORM = b"application/x-www-form-urlencoded"


class NulGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif _holds_nul(scope):
            await _refuse(scope, send, DETAIL)
        elif dict(scope["headers"]).get(b"content-type", b"").startswith(FORM):
            await self._form(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _form(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the form through, unless a chunk of it holds %00 (or a raw NUL): then
        answer ourselves and tell the app the client left, as BodyLimit does."""
        tail = b""
        refused = False

        async def checked() -> Message:
            nonlocal tail, refused
            message = await receive()
            window = tail + message.get("body", b"")
            if not refused and (b"%00" in window or b"\x00" in window):
                refused = True
                await _refuse(scope, send, FORM_DETAIL)
                return {"type": "http.disconnect"}
            tail = window[-2:]
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        try:
            await self.app(scope, checked, guarded_send)
        except Exception:
            if not refused:
                raise


def _holds_nul(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope.get("path", "") or b"\x00" in unquote_to_bytes(query)


async def _refuse(scope: Scope, send: Send, detail: str) -> None:
    path = scope.get("path", "").replace("\x00", "")
    body: dict[str, object]
    if path.startswith(SCIM_PREFIX):
        kind, status = b"application/scim+json", 400
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": "400",
            "scimType": "invalidValue",
            "detail": detail,
        }
    else:
        kind, status = b"application/problem+json", 422
        body = {
            "type": "https://roster.dev/problems/validation_error",
            "title": "Invalid input",
            "status": 422,
            "code": "validation_error",
            "instance": path,
            "detail": detail,
        }
    encoded = json.dumps(body).encode()
    headers = [(b"content-type", kind), (b"content-length", str(len(encoded)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": encoded})
