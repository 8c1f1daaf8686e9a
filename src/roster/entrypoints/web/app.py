"""The ASGI application."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.telemetry import TelemetryConfig

from roster import __version__
from roster.bootstrap import Container, bootstrap
from roster.entrypoints.web import admin, problems
from roster.entrypoints.web.admin.users import users_page
from roster.entrypoints.web.api import (
    audit,
    auth,
    flows,
    introspect,
    invitations,
    me,
    reference,
    tokens,
    users,
    workspace,
)
from roster.entrypoints.web.api import billing as billing_api  # billing (issue 7)
from roster.entrypoints.web.api import bulk as bulk_api  # bulk actions (issue 5)
from roster.entrypoints.web.api import events as automation_events  # automations (issue 6)
from roster.entrypoints.web.api.automations import router as automations_router
from roster.entrypoints.web.api.user_listing import list_lane
from roster.entrypoints.web.background import start as start_background
from roster.entrypoints.web.dispatch import PrefixDispatch
from roster.entrypoints.web.fast_lanes import FastLanes, endpoint_lane
from roster.entrypoints.web.limits import BodyLimit
from roster.entrypoints.web.log_redaction import install as redact_tokens_in_logs
from roster.entrypoints.web.nul_guard import NulGuard
from roster.entrypoints.web.public import invitations as invitation_page
from roster.entrypoints.web.request_ids import RequestIds
from roster.entrypoints.web.scim import router as scim_router  # SCIM (issue 8)

API = "/api/v1"
# FastAPI looks up OpenTelemetry's providers on every request unless told not to.
NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
FAST_LANES = {f"{API}/users": list_lane, "/admin/users": endpoint_lane(users_page)}

LANDING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Roster</title></head>
<body><main>
<h1>Roster</h1>
<p>User lifecycle: Active, Inactive and Blocked users, audited.</p>
<ul>
<li>Admin dashboard: <a href="/admin">/admin</a></li>
<li>REST API: <a href="/api/v1">/api/v1</a>,
    described at <a href="/openapi.json">/openapi.json</a></li>
<li>SCIM 2.0 for identity providers: <code>/scim/v2</code></li>
<li>Health: <a href="/healthz">/healthz</a></li>
</ul>
</main></body></html>"""


def create_app(container: Container | None = None, *, background: bool = False) -> FastAPI:
    """The whole app. `roster serve` runs it with `background=True` (bulk jobs,
    schedules, outbox); tests drive those ticks themselves."""
    resolved = container or bootstrap()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = start_background(resolved) if background else None
        yield
        if stop:
            stop()

    app = FastAPI(
        title="Roster",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        description="User lifecycle: Active, Inactive and Blocked users, audited.",
        lifespan=lifespan,
        telemetry=None if resolved.settings.telemetry else NO_TELEMETRY,
    )
    app.state.container = resolved
    redact_tokens_in_logs()  # invitation links carry their token in the path
    problems.install(app)
    # The innermost of our middleware: the hottest GETs answered ahead of the routing.
    app.add_middleware(FastLanes, lanes=FAST_LANES)
    app.add_middleware(BodyLimit)
    app.add_middleware(NulGuard)  # no %00 in any URL (a 500 on PostgreSQL otherwise)
    app.add_middleware(RequestIds)  # the outermost: every answer carries X-Request-ID
    for router in (auth.router, me.router, tokens.router, users.router):
        app.include_router(router, prefix=API)
    for router in (flows.router, introspect.router, invitations.router):  # access (issue 3)
        app.include_router(router, prefix=API)
    for router in (audit.router, workspace.router, reference.router):  # users API (issue 4)
        app.include_router(router, prefix=API)
    app.include_router(bulk_api.router, prefix=API)  # bulk actions (issue 5)
    app.include_router(billing_api.router, prefix=API)  # billing (issue 7)
    for router in (automations_router, automation_events.router):  # automations (issue 6)
        app.include_router(router, prefix=API)
    app.include_router(invitation_page.router)  # the invitation accept page
    admin.install(app)  # the dashboard under /admin
    app.include_router(scim_router)  # SCIM 2.0 under /scim/v2 (issue 8)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    def landing() -> str:
        return LANDING

    # Match each request only against the routes its path prefix can reach.
    app.router.middleware_stack = PrefixDispatch(app.router)
    return app


def serve_app() -> FastAPI:
    """The app as `roster serve` runs it: with the background loop."""
    return create_app(background=True)
