"""Security headers on every dashboard response (pages, redirects and static files).

The Content-Security-Policy allows nothing inline and nothing from elsewhere: the
dashboard's stylesheets and its one script (the automation editor's) are files
served from /admin/static.
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIX = "/admin"
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def secured(
    raw: list[tuple[bytes, bytes]], *, dashboard: bool, static: bool
) -> list[tuple[bytes, bytes]]:
    """The response headers `raw` with HEADERS on a dashboard or HTML answer, and
    no-store on a dashboard page (not its static files)."""
    headers = MutableHeaders(raw=list(raw))
    if dashboard or headers.get("content-type", "").startswith("text/html"):
        for name, value in HEADERS.items():
            headers[name] = value
    if dashboard and not static:
        headers["Cache-Control"] = "no-store"
    return headers.raw


class SecurityHeaders:
    """Pure ASGI middleware: adds HEADERS to responses under /admin, and keeps
    pages (which show user data and one-time tokens) out of caches. Every other
    HTML page (the invitation page, the landing page, the API reference) gets
    HEADERS too: none of them may be framed or run inline script."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        dashboard = path == PREFIX or path.startswith(PREFIX + "/")
        static = path.startswith(PREFIX + "/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = secured(
                    list(message["headers"]), dashboard=dashboard, static=static
                )
            await send(message)

        await self.app(scope, receive, send_with_headers)
