"""Request guards: what no route may ever read is refused before any route runs.

- **Body size.** A body over the limit answers 413, whether its Content-Length says
  so or it streams past the limit; no parser ever sees the rest.
- **NUL bytes.** A `%00` (or raw NUL) in the path, the query string or a form is
  never part of an id, a filter, a name or a password, and PostgreSQL cannot even
  compare text holding one (it would surface as a 500). JSON bodies are checked by
  their models.

Each refusal answers in the route family's error shape: a SCIM Error under /scim/v2
(scim/errors.py), an RFC 9457 problem everywhere else (problems.py).
"""

from urllib.parse import unquote_to_bytes

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roster.entrypoints.web import problems
from roster.entrypoints.web.scim.errors import error_response

MAX_BODY = 1024 * 1024  # 1 MiB: far above any form, JSON or SCIM body Roster takes
# Routes that take more: a bulk action may name up to 1,000,000 user ids (~40 bytes each).
LARGER = {"/api/v1/bulk-actions": 48 * 1024 * 1024}
SCIM_PREFIX = "/scim/v2"
FORM = "application/x-www-form-urlencoded"
URL_NUL = "The URL holds a NUL character (%00), which no id, filter or search may contain."
FORM_NUL = "The form holds a NUL character (%00), which no field may contain."


class RequestGuards:
    """Pure ASGI middleware: the body limit and the NUL check, for every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = LARGER.get(path, MAX_BODY)
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if _holds_nul(scope):
            refusal: Response | None = _invalid(path, URL_NUL)
        elif declared is not None and (not declared.isdigit() or int(declared) > limit):
            refusal = _too_large(path, limit)
        else:
            refusal = None
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        form = headers.get("content-type", "").startswith(FORM)
        await self._guarded(scope, receive, send, limit, form)

    async def _guarded(
        self, scope: Scope, receive: Receive, send: Send, limit: int, form: bool
    ) -> None:
        """Pass the body through, counting it (and, for a form, looking for NUL). On a
        refusal, answer it and tell the app the client left, so no handler reads on."""
        path: str = scope["path"]
        seen, tail = 0, b""
        refused: Response | None = None

        async def checked() -> Message:
            nonlocal seen, tail, refused
            message = await receive()
            chunk = message.get("body", b"")
            seen += len(chunk)
            window = tail + chunk
            if refused is None and seen > limit:
                refused = _too_large(path, limit)
            elif refused is None and form and (b"%00" in window or b"\x00" in window):
                refused = _invalid(path, FORM_NUL)
            if refused is not None:
                await refused(scope, receive, send)
                return {"type": "http.disconnect"}
            tail = window[-2:]
            return message

        async def quiet_after_refusal(message: Message) -> None:
            if refused is None:
                await send(message)

        try:
            await self.app(scope, checked, quiet_after_refusal)
        except Exception:
            if refused is None:
                raise


def _holds_nul(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(query)


def _too_large(path: str, limit: int) -> Response:
    detail = f"The request body is over the limit of {limit} bytes."
    if path.startswith(SCIM_PREFIX):
        return error_response(413, detail)
    return problems.problem(
        413, "payload_too_large", "Payload too large", detail, instance=_shown(path)
    )


def _invalid(path: str, detail: str) -> Response:
    if path.startswith(SCIM_PREFIX):
        return error_response(400, detail, "invalidValue")
    return problems.problem(422, "validation_error", "Invalid input", detail, instance=_shown(path))


def _shown(path: str) -> str:
    return path.replace("\x00", "")
