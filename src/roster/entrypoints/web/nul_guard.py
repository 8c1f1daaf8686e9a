"""No NUL character in a URL: refused before any route reads it.

A `%00` in a path or query string is never part of an id, a filter or a search,
and PostgreSQL cannot even compare text holding one (it would surface as a 500).
The answer is the route family's error shape: a SCIM Error under /scim/v2, an
RFC 9457 problem everywhere else.
"""

import json
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

SCIM_PREFIX = "/scim/v2"
DETAIL = "The URL holds a NUL character (%00), which no id, filter or search may contain."


class NulGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _holds_nul(scope):
            await _refuse(scope, send)
            return
        await self.app(scope, receive, send)


def _holds_nul(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope.get("path", "") or b"\x00" in unquote_to_bytes(query)


async def _refuse(scope: Scope, send: Send) -> None:
    path = scope.get("path", "").replace("\x00", "")
    body: dict[str, object]
    if path.startswith(SCIM_PREFIX):
        kind, status = b"application/scim+json", 400
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": "400",
            "scimType": "invalidValue",
            "detail": DETAIL,
        }
    else:
        kind, status = b"application/problem+json", 422
        body = {
            "type": "https://roster.dev/problems/validation_error",
            "title": "Invalid input",
            "status": 422,
            "code": "validation_error",
            "instance": path,
            "detail": DETAIL,
        }
    encoded = json.dumps(body).encode()
    headers = [(b"content-type", kind), (b"content-length", str(len(encoded)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": encoded})
