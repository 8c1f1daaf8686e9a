"""A request body size limit for every route: oversized input is refused before
any handler (or parser) sees it."""

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 1024 * 1024  # 1 MiB: far above any form, JSON or SCIM body Roster takes
# Routes that take more: a bulk action may name up to 1,000,000 user ids (~40 bytes each).
LARGER = {"/api/v1/bulk-actions": 48 * 1024 * 1024}
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


class BodyLimit:
    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = LARGER.get(scope.get("path", ""), self.max_body)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, send, limit)
            return
        seen = 0
        refused = False

        async def limited() -> Message:
            # Past the limit, answer 413 ourselves and tell the app the client left,
            # so no handler ever parses the rest.
            nonlocal seen, refused
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit and not refused:
                refused = True
                await self._refuse(scope, send, limit)
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        try:
            await self.app(scope, limited, guarded_send)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        detail = f"The request body is over the limit of {limit} bytes."
        if str(scope.get("path", "")).startswith("/scim/v2"):  # SCIM's own error shape
            error = {"schemas": [SCIM_ERROR], "status": "413", "detail": detail}
            await _answer(send, b"application/scim+json", json.dumps(error).encode())
            return
        body = json.dumps(
            {
                "type": "https://roster.dev/problems/payload_too_large",
                "title": "Payload too large",
                "status": 413,
                "code": "payload_too_large",
                "instance": scope.get("path"),
                "detail": detail,
            }
        ).encode()
        await _answer(send, b"application/problem+json", body)


async def _answer(send: Send, kind: bytes, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
