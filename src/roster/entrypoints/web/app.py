"""The ASGI application."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.telemetry import TelemetryConfig
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from roster import __version__
from roster.bootstrap import Container, bootstrap
from roster.entrypoints.web import admin, problems
from roster.entrypoints.web.api import (
    audit,
    auth,
    automations,
    billing,
    bulk,
    emails,
    events,
    flows,
    introspect,
    invitations,
    me,
    reference,
    reviews,
    tokens,
    users,
    webhooks,
    workspace,
)
from roster.entrypoints.web.api.known_params import refuse_unknown_query_params
from roster.entrypoints.web.background import start as start_background
from roster.entrypoints.web.guards import RequestGuards
from roster.entrypoints.web.log_redaction import install as redact_tokens_in_logs
from roster.entrypoints.web.logs import RequestLog
from roster.entrypoints.web.logs import configure as configure_logs
from roster.entrypoints.web.metrics import RequestMetrics, registry_for
from roster.entrypoints.web.public import invitations as invitation_page
from roster.entrypoints.web.request_ids import RequestIds
from roster.entrypoints.web.scim import router as scim_router
from roster.services.readiness import check_readiness

API = "/api/v1"
# FastAPI looks up OpenTelemetry's providers on every request unless told not to.
NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}

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
<li>Health: <a href="/healthz">/healthz</a>, readiness: <a href="/readyz">/readyz</a></li>
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
    app.add_middleware(RequestGuards)  # body size and NUL bytes, before any route reads
    app.add_middleware(RequestMetrics, engine=resolved.engine)  # counts refusals too
    app.add_middleware(RequestLog)  # inside RequestIds: each line has the request's id
    app.add_middleware(RequestIds)  # the outermost: every answer carries X-Request-ID
    known_params = [Depends(refuse_unknown_query_params)]  # not SCIM's nor the dashboard's
    for api in (auth, me, tokens, users, flows, introspect, invitations, audit, workspace):
        app.include_router(api.router, prefix=API, dependencies=known_params)
    for api in (reference, bulk, billing, automations, events, emails, reviews, webhooks):
        app.include_router(api.router, prefix=API, dependencies=known_params)
    app.include_router(invitation_page.router)  # the invitation accept page
    admin.install(app)  # the dashboard under /admin
    app.include_router(scim_router)  # SCIM 2.0 under /scim/v2

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        """503 until the database answers at the code's schema: a load balancer sends
        no traffic to a process that would only fail it."""
        found = check_readiness(resolved.engine)
        body = {
            "status": "ready" if found.ready else "unready",
            "version": found.version,
            "schema": found.schema,
            "reason": found.reason,
        }
        return JSONResponse(body, status_code=200 if found.ready else 503)

    if resolved.settings.metrics_port is None:  # else only on that port (roster serve)
        scraped = registry_for(resolved.engine, resolved.clock)

        @app.get("/metrics", include_in_schema=False)
        def metrics() -> Response:
            """Prometheus text format; no credential, like /healthz."""
            return Response(generate_latest(scraped), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    def landing() -> str:
        return LANDING

    return app


def serve_app() -> FastAPI:
    """The app as `roster serve` runs it (in each worker process): with the
    background loop."""
    container = bootstrap()
    configure_logs(container.settings.log_format)
    return create_app(container, background=True)


def web_app() -> FastAPI:
    """The app as `roster serve --no-background` runs it: `roster worker` does the rest."""
    container = bootstrap()
    configure_logs(container.settings.log_format)
    return create_app(container)
