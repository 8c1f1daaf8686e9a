"""External events (`payment.failed`, `payment.succeeded`, …) for event-triggered rules."""

import logging
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import AfterValidator, BaseModel, Field

from roster.domain.credentials import CredentialKind, Principal
from roster.domain.rules.runs import Run
from roster.entrypoints.web.api.automations import RunOut
from roster.entrypoints.web.api.schemas import Strict, storable_tree
from roster.entrypoints.web.deps import ContainerDep, require_kinds
from roster.entrypoints.web.problems import responses
from roster.services import automations as auto

router = APIRouter(prefix="/events", tags=["automations"])
log = logging.getLogger("roster.events")


class EventBody(Strict):
    type: str = Field(min_length=3, max_length=64, examples=["payment.failed"])
    user_id: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    data: Annotated[dict[str, Any], AfterValidator(storable_tree)] = Field(
        default_factory=dict, description="Free-form event data."
    )


class EventAccepted(BaseModel):
    id: str
    runs: list[RunOut] = Field(
        description="The runs it caused at once (rules acting on it); more may follow."
    )


@router.post(
    "",
    status_code=202,
    response_model=EventAccepted,
    responses=responses(401, 403, 404, 422),
)
def post_event(
    body: EventBody,
    principal: Annotated[Principal, require_kinds(CredentialKind.SERVICE)],
    container: ContainerDep,
) -> EventAccepted:
    """Report an event about one user (by `user_id` or `email`), from an integration's
    service token. Event rules act on it after it is recorded: their status changes
    go through route `automation`, so they never lift a block."""
    event_id = auto.post_event(
        container.uow(),
        workspace_id=principal.workspace_id,
        type=body.type,
        user_id=body.user_id,
        email=body.email,
        data=body.data,
        now=container.clock(),
    )
    caused = [r for r in _act_now(container, principal) if r.event_id == event_id]
    views = [auto.read_run(container.uow(), r.workspace_id, r.rule_id, r.id) for r in caused]
    return EventAccepted(id=event_id, runs=[RunOut.of(v.run, v.refused_by_code) for v in views])


def _act_now(container: ContainerDep, principal: Principal) -> list[Run]:
    # The event is safely recorded; acting at once is a courtesy. If it fails the
    # background loop acts on it later.
    try:
        return auto.dispatch_workspace(container.uow(), principal.workspace_id, container.clock)
    except Exception:
        log.exception("acting on events failed; the background loop retries")
        return []
