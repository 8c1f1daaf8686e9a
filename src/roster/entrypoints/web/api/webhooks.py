"""Webhook endpoints (owners and admins): subscribe a URL to event types, read its
deliveries and their attempts, replay one, rotate the secret, send a test event."""

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from roster.domain.webhooks import EVENT_TYPES, AttemptRecord, Delivery, Endpoint
from roster.entrypoints.web.api.pages import Cursor, Page, cursor_id, page_of, page_size
from roster.entrypoints.web.deps import AdminDep, ContainerDep, RequestIdDep
from roster.entrypoints.web.problems import responses
from roster.services import webhooks
from roster.services.cursors import encode_cursor

router = APIRouter(tags=["webhooks"])
ENDPOINTS = "/webhook-endpoints"
Limit = Annotated[int, page_size(200)]


class EndpointBody(BaseModel):
    url: str = Field(max_length=2000, description="Where deliveries are POSTed (http or https).")
    events: list[str] = Field(
        max_length=50, description='Event types (GET /webhook-event-types), or ["*"] for all.'
    )
    description: str | None = Field(default=None, max_length=500)


class EndpointPatch(BaseModel):
    url: str | None = Field(default=None, max_length=2000)
    events: list[str] | None = Field(default=None, max_length=50)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = Field(
        default=None, description="false pauses deliveries; true resumes (failures forgotten)."
    )


class EndpointOut(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str | None
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime | None

    @classmethod
    def of(cls, e: Endpoint) -> "EndpointOut":
        return cls(
            id=e.id,
            url=e.url,
            events=e.events,
            description=e.description,
            enabled=e.enabled,
            disabled_reason=e.disabled_reason,
            failing_since=e.failing_since,
            created_at=e.created_at,
            updated_at=e.updated_at,
        )


class EndpointCreated(EndpointOut):
    secret: str = Field(
        description="`whsec_…`: verifies the signatures. Shown this once; rotate to replace."
    )


class AttemptOut(BaseModel):
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    response: str | None = Field(description="The first KiB of the receiver's answer.")

    @classmethod
    def of(cls, a: AttemptRecord) -> "AttemptOut":
        return cls(**{f: getattr(a, f) for f in cls.model_fields})


class DeliveryOut(BaseModel):
    id: str = Field(description="The `webhook-id` header: the same on every attempt.")
    endpoint_id: str | None
    event_type: str
    state: Literal["pending", "succeeded", "failed"]
    attempts: list[AttemptOut]
    created_at: datetime
    next_attempt_at: datetime | None
    payload: dict[str, Any] = Field(description="The body sent, parsed.")

    @classmethod
    def of(cls, d: Delivery) -> "DeliveryOut":
        return cls(
            id=d.id,
            endpoint_id=d.endpoint_id,
            event_type=d.event_type,
            state=d.state,
            attempts=[AttemptOut.of(a) for a in d.tried],
            created_at=d.created_at,
            next_attempt_at=d.next_attempt_at if d.state == "pending" else None,
            payload=json.loads(d.body),
        )


class EventType(BaseModel):
    type: str
    description: str


class Queued(BaseModel):
    delivery_id: str


@router.get(
    "/webhook-event-types", response_model=Page[EventType], responses=responses(401, 403, 422)
)
def event_types(admin: AdminDep, cursor: Cursor = None, limit: Limit = 50) -> Page[EventType]:
    """The event catalogue: what an endpoint may subscribe to (docs/webhooks.md has an
    example of each), by name."""
    after = cursor_id(cursor)
    kinds = sorted(t for t in EVENT_TYPES if after is None or t > after)
    return page_of(
        Page[EventType],
        kinds[: limit + 1],
        limit,
        lambda t: EventType(type=t, description=EVENT_TYPES[t]),
        lambda t: (t,),
    )


@router.post(
    ENDPOINTS, status_code=201, response_model=EndpointCreated, responses=responses(401, 403, 422)
)
def create(
    body: EndpointBody, admin: AdminDep, container: ContainerDep, request_id: RequestIdDep
) -> EndpointCreated:
    """Subscribe a URL. The answer carries the secret, shown this once. An address
    inside the network is refused unless ROSTER_WEBHOOK_ALLOW_PRIVATE=true."""
    endpoint = webhooks.create_endpoint(
        container.uow(),
        workspace_id=admin.workspace_id,
        url=body.url,
        events=body.events,
        description=body.description,
        now=container.clock(),
        route=admin.route,
        actor=admin.actor,
        request_id=request_id,
        allow_private=container.settings.webhook_allow_private,
    )
    return EndpointCreated(**EndpointOut.of(endpoint).model_dump(), secret=endpoint.secret)


@router.get(ENDPOINTS, response_model=Page[EndpointOut], responses=responses(401, 403, 422))
def list_(
    admin: AdminDep, container: ContainerDep, cursor: Cursor = None, limit: Limit = 50
) -> Page[EndpointOut]:
    """The workspace's endpoints, oldest first (never their secrets)."""
    items, after = webhooks.list_endpoints(
        container.uow(), admin.workspace_id, cursor=cursor_id(cursor), limit=limit
    )
    return Page[EndpointOut](
        items=[EndpointOut.of(e) for e in items], next_cursor=after and encode_cursor(after)
    )


@router.get(
    ENDPOINTS + "/{endpoint_id}", response_model=EndpointOut, responses=responses(401, 403, 404)
)
def get(endpoint_id: str, admin: AdminDep, container: ContainerDep) -> EndpointOut:
    return EndpointOut.of(webhooks.get_endpoint(container.uow(), admin.workspace_id, endpoint_id))


@router.patch(
    ENDPOINTS + "/{endpoint_id}",
    response_model=EndpointOut,
    responses=responses(401, 403, 404, 422),
)
def patch(
    endpoint_id: str,
    body: EndpointPatch,
    admin: AdminDep,
    container: ContainerDep,
    request_id: RequestIdDep,
) -> EndpointOut:
    """Change the fields given. Enabling a disabled endpoint resumes its deliveries."""
    endpoint = webhooks.update_endpoint(
        container.uow(),
        admin.workspace_id,
        endpoint_id,
        body.model_dump(exclude_unset=True),
        now=container.clock(),
        route=admin.route,
        actor=admin.actor,
        request_id=request_id,
        allow_private=container.settings.webhook_allow_private,
    )
    return EndpointOut.of(endpoint)


@router.delete(ENDPOINTS + "/{endpoint_id}", status_code=204, responses=responses(401, 403, 404))
def delete(
    endpoint_id: str, admin: AdminDep, container: ContainerDep, request_id: RequestIdDep
) -> Response:
    """Unsubscribe: nothing more is sent, and the waiting deliveries are dropped."""
    webhooks.delete_endpoint(
        container.uow(),
        admin.workspace_id,
        endpoint_id,
        now=container.clock(),
        route=admin.route,
        actor=admin.actor,
        request_id=request_id,
    )
    return Response(status_code=204)


@router.post(
    ENDPOINTS + "/{endpoint_id}/rotate-secret",
    response_model=EndpointCreated,
    responses=responses(401, 403, 404),
)
def rotate(
    endpoint_id: str, admin: AdminDep, container: ContainerDep, request_id: RequestIdDep
) -> EndpointCreated:
    """A new secret, shown this once. For 24 hours deliveries carry a signature by
    each, so receivers can switch without missing one."""
    endpoint = webhooks.rotate_secret(
        container.uow(),
        admin.workspace_id,
        endpoint_id,
        container.clock(),
        route=admin.route,
        actor=admin.actor,
        request_id=request_id,
    )
    return EndpointCreated(**EndpointOut.of(endpoint).model_dump(), secret=endpoint.secret)


@router.post(
    ENDPOINTS + "/{endpoint_id}/test",
    status_code=202,
    response_model=Queued,
    responses=responses(401, 403, 404),
)
def test(endpoint_id: str, admin: AdminDep, container: ContainerDep) -> Queued:
    """Send a `webhook.test` event to this endpoint (queued: it leaves within a second)."""
    delivery_id = webhooks.send_test(
        container.uow(), admin.workspace_id, endpoint_id, container.clock()
    )
    return Queued(delivery_id=delivery_id)


@router.get(
    ENDPOINTS + "/{endpoint_id}/deliveries",
    response_model=Page[DeliveryOut],
    responses=responses(401, 403, 404),
)
def deliveries(
    endpoint_id: str,
    admin: AdminDep,
    container: ContainerDep,
    status: Annotated[Literal["pending", "succeeded", "failed"] | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[DeliveryOut]:
    """The endpoint's deliveries, newest first, each with every attempt: status code,
    duration and the first KiB of the answer."""
    items, after = webhooks.list_deliveries(
        container.uow(),
        admin.workspace_id,
        endpoint_id,
        state=status,
        cursor=cursor_id(cursor),
        limit=limit,
    )
    return Page[DeliveryOut](
        items=[DeliveryOut.of(d) for d in items], next_cursor=after and encode_cursor(after)
    )


@router.get(
    "/webhook-deliveries/{delivery_id}",
    response_model=DeliveryOut,
    responses=responses(401, 403, 404),
)
def delivery(delivery_id: str, admin: AdminDep, container: ContainerDep) -> DeliveryOut:
    return DeliveryOut.of(webhooks.get_delivery(container.uow(), admin.workspace_id, delivery_id))


@router.post(
    "/webhook-deliveries/{delivery_id}/retry",
    status_code=202,
    response_model=Queued,
    responses=responses(401, 403, 404),
)
def retry(delivery_id: str, admin: AdminDep, container: ContainerDep) -> Queued:
    """Send a delivery again now, with the same webhook-id and body (a replay)."""
    webhooks.retry_delivery(container.uow(), admin.workspace_id, delivery_id, container.clock())
    return Queued(delivery_id=delivery_id)
