"""Webhooks: endpoints subscribed to events (the secret shown once), each one's
deliveries with their attempts, and the test, retry and rotate buttons."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated
from urllib.parse import quote, unquote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from roster.domain import errors
from roster.domain.webhooks import EVENT_TYPES, SUBSCRIBABLE
from roster.entrypoints.web.admin.rendering import redirect, render
from roster.entrypoints.web.admin.session import AdminDep, AdminSession
from roster.entrypoints.web.admin.views import PageNotFound
from roster.entrypoints.web.deps import ContainerDep, RequestIdDep
from roster.services import webhooks

router = APIRouter()
# The new secret rides to the endpoint's page in a cookie scoped to these pages, then is gone.
NEW_SECRET_COOKIE = "roster_new_webhook_secret"  # noqa: S105 - a cookie name, not a secret
PATH = "/admin/webhooks"
CHOICES = [(t, d) for t, d in EVENT_TYPES.items() if t in SUBSCRIBABLE]
Events = Annotated[list[str], Form()]


@contextmanager
def missing_is_404() -> Iterator[None]:
    """Another workspace's endpoint or delivery, or one deleted: the plain 404 page."""
    try:
        yield
    except errors.NotFound as missing:
        raise PageNotFound(missing.detail) from missing


def _list(
    request: Request,
    admin: AdminSession,
    container: ContainerDep,
    *,
    status_code: int = 200,
    form_errors: dict[str, str] | None = None,
    values: dict[str, object] | None = None,
) -> HTMLResponse:
    endpoints, _ = webhooks.list_endpoints(
        container.uow(), admin.workspace_id, cursor=None, limit=200
    )
    return render(
        request,
        "webhooks/list.html",
        status_code=status_code,
        title="Webhooks",
        endpoints=endpoints,
        choices=CHOICES,
        errors=form_errors or {},
        values=values or {"events": []},
    )


@router.get("/webhooks", response_class=HTMLResponse)
def webhooks_page(request: Request, admin: AdminDep, container: ContainerDep) -> HTMLResponse:
    return _list(request, admin, container)


@router.post("/webhooks")
def create(
    request: Request,
    admin: AdminDep,
    container: ContainerDep,
    request_id: RequestIdDep,
    url: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    events: Events = [],  # noqa: B006 - FastAPI copies a form default
) -> Response:
    """Subscribe a URL; its page shows the secret once."""
    values: dict[str, object] = {"url": url, "description": description, "events": events}
    try:
        endpoint = webhooks.create_endpoint(
            container.uow(),
            workspace_id=admin.workspace_id,
            url=url,
            events=events,
            description=description.strip() or None,
            now=container.clock(),
            route=admin.principal.route,
            actor=admin.principal.actor,
            request_id=request_id,
            allow_private=container.settings.webhook_allow_private,
        )
    except errors.InvalidInput as bad:
        field, _, words = bad.detail.partition(": ")
        problem = {field if field in values else "url": words or bad.detail}
        return _list(request, admin, container, status_code=422, form_errors=problem, values=values)
    response = redirect(
        request,
        f"{PATH}/{endpoint.id}",
        flash="Endpoint created. Copy its secret now: it is shown only once.",
    )
    _hand_over(request, response, endpoint.secret)
    return response


def _hand_over(request: Request, response: Response, secret: str) -> None:
    response.set_cookie(
        NEW_SECRET_COOKIE,
        quote(secret),
        max_age=120,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@router.get("/webhooks/{endpoint_id}", response_class=HTMLResponse)
def endpoint_page(
    request: Request,
    endpoint_id: str,
    admin: AdminDep,
    container: ContainerDep,
    status: str | None = None,
) -> HTMLResponse:
    with missing_is_404():
        uow = container.uow()
        endpoint = webhooks.get_endpoint(uow, admin.workspace_id, endpoint_id)
        state = status if status in ("pending", "succeeded", "failed") else None
        deliveries, _ = webhooks.list_deliveries(
            uow, admin.workspace_id, endpoint_id, state=state, cursor=None, limit=50
        )
    new_secret = unquote(request.cookies.get(NEW_SECRET_COOKIE, "")) or None
    response = render(
        request,
        "webhooks/endpoint.html",
        title=f"Webhook endpoint {endpoint.url}",
        endpoint=endpoint,
        deliveries=deliveries,
        state=state,
        new_secret=new_secret,
    )
    if new_secret:
        response.delete_cookie(NEW_SECRET_COOKIE, path=PATH)
    return response


@router.post("/webhooks/{endpoint_id}/test")
def test(request: Request, endpoint_id: str, admin: AdminDep, container: ContainerDep) -> Response:
    with missing_is_404():
        webhooks.send_test(container.uow(), admin.workspace_id, endpoint_id, container.clock())
    return redirect(
        request, f"{PATH}/{endpoint_id}", flash="Test event queued: it leaves within a second."
    )


@router.post("/webhooks/{endpoint_id}/rotate-secret")
def rotate(
    request: Request,
    endpoint_id: str,
    admin: AdminDep,
    container: ContainerDep,
    request_id: RequestIdDep,
) -> Response:
    with missing_is_404():
        endpoint = webhooks.rotate_secret(
            container.uow(),
            admin.workspace_id,
            endpoint_id,
            container.clock(),
            route=admin.principal.route,
            actor=admin.principal.actor,
            request_id=request_id,
        )
    response = redirect(
        request,
        f"{PATH}/{endpoint_id}",
        flash="New secret made. The old one keeps signing beside it for 24 hours.",
    )
    _hand_over(request, response, endpoint.secret)
    return response


@router.post("/webhooks/{endpoint_id}/enabled")
def set_enabled(
    request: Request,
    endpoint_id: str,
    admin: AdminDep,
    container: ContainerDep,
    request_id: RequestIdDep,
    enabled: Annotated[bool, Form()] = False,
) -> Response:
    with missing_is_404():
        webhooks.update_endpoint(
            container.uow(),
            admin.workspace_id,
            endpoint_id,
            {"enabled": enabled},
            now=container.clock(),
            route=admin.principal.route,
            actor=admin.principal.actor,
            request_id=request_id,
            allow_private=container.settings.webhook_allow_private,
        )
    words = "Endpoint enabled: deliveries resume." if enabled else "Endpoint paused."
    return redirect(request, f"{PATH}/{endpoint_id}", flash=words)


@router.post("/webhooks/{endpoint_id}/delete")
def delete(
    request: Request,
    endpoint_id: str,
    admin: AdminDep,
    container: ContainerDep,
    request_id: RequestIdDep,
) -> Response:
    with missing_is_404():
        webhooks.delete_endpoint(
            container.uow(),
            admin.workspace_id,
            endpoint_id,
            now=container.clock(),
            route=admin.principal.route,
            actor=admin.principal.actor,
            request_id=request_id,
        )
    return redirect(request, PATH, flash="Endpoint deleted: nothing more is sent to it.")


@router.post("/webhooks/{endpoint_id}/deliveries/{delivery_id}/retry")
def retry(
    request: Request, endpoint_id: str, delivery_id: str, admin: AdminDep, container: ContainerDep
) -> Response:
    with missing_is_404():
        webhooks.retry_delivery(container.uow(), admin.workspace_id, delivery_id, container.clock())
    return redirect(
        request, f"{PATH}/{endpoint_id}", flash="Delivery queued again, with the same webhook-id."
    )
