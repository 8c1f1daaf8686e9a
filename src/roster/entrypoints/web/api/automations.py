"""Automation rules and their runs in the REST API (PRODUCT §8)."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from roster.domain.rules.definition import RuleInvalid, dormant_template
from roster.domain.rules.runs import Rule, Run
from roster.entrypoints.web.api.schemas import Strict
from roster.entrypoints.web.deps import AdminDep, ContainerDep, RequestIdDep
from roster.entrypoints.web.problems import problem, responses
from roster.services import automations as auto

router = APIRouter(prefix="/automations", tags=["automations"])

T = TypeVar("T")

RULE_EXAMPLE = {
    "name": "Deactivate dormant users",
    "enabled": True,
    "trigger": {"type": "schedule", "daily_at": "03:00"},
    "conditions": [
        {"field": "status", "op": "in", "value": ["active"]},
        {"field": "last_seen_days", "op": "gt", "value": 90},
    ],
    "action": {"type": "set_status", "status": "inactive", "note": "Not seen for 90 days"},
}
RuleBody = Annotated[
    dict[str, Any],
    Body(
        description=(
            "A rule: name, enabled, trigger (schedule every_minutes | daily_at, or event), "
            "conditions (field status|role|email_domain|last_seen_days|never_signed_in_days|"
            "expires_in_days|event.data.<key>; op eq|in|gt|lt; value), action (set_status "
            "with status, reason_code?, note?; or webhook with url). `personal: true` makes "
            "it yours: it stops when you leave Active."
        ),
        openapi_examples={"dormant": {"value": RULE_EXAMPLE}},
    ),
]


class RuleOut(BaseModel):
    id: str
    name: str
    enabled: bool
    personal: bool
    trigger: dict[str, Any]
    conditions: list[dict[str, Any]]
    action: dict[str, Any]
    summary: str = Field(description="The rule in plain words.")
    next_run_at: datetime | None
    disabled_reason: str | None
    webhook_secret: str | None = Field(
        description="For webhook rules: the Standard Webhooks secret to verify signatures."
    )
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, rule: Rule) -> "RuleOut":
        d = rule.definition.as_json()
        return cls(
            id=rule.id,
            summary=rule.summary,
            next_run_at=rule.next_run_at,
            disabled_reason=rule.disabled_reason,
            webhook_secret=rule.webhook_secret,
            created_by=rule.created_by,
            created_at=rule.created_at,
            updated_at=rule.updated_at,
            **d,
        )


class RuleList(BaseModel):
    items: list[RuleOut]


class RunBody(Strict):
    dry_run: bool = False


class RunOut(BaseModel):
    id: str
    rule_id: str
    state: str = Field(description="running, succeeded, failed or stopped (loop protection).")
    trigger: str = Field(description="schedule, event or manual.")
    dry_run: bool
    event: str | None
    event_id: str | None
    depth: int = Field(description="How many event rules led to this one (0: none).")
    reason: str | None = Field(description="Why it failed or stopped.")
    counts: dict[str, int] = Field(
        description="matched, applied, unchanged, refused, and refused:<code> per code."
    )
    active_delta: int = Field(description="The change to the active user count.")
    started_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, run: Run, refused: dict[str, int] | None = None) -> "RunOut":
        counts = {
            "matched": run.matched,
            "applied": run.applied,
            "unchanged": run.unchanged,
            "refused": run.refused,
        }
        counts |= {f"refused:{code}": n for code, n in (refused or {}).items()}
        return cls(
            id=run.id,
            rule_id=run.rule_id,
            state=run.state,
            trigger=run.trigger,
            dry_run=run.dry_run,
            event=run.event,
            event_id=run.event_id,
            depth=run.depth,
            reason=run.reason,
            counts=counts,
            active_delta=run.active_delta,
            started_at=run.started_at,
            finished_at=run.finished_at,
        )


class RunList(BaseModel):
    items: list[RunOut]
    next_cursor: str | None = Field(description="Pass as `before` for older runs.")


class OutcomeOut(BaseModel):
    user_id: str
    email: str
    result: str = Field(description="applied, unchanged or refused.")
    code: str | None = Field(description="The refusal's code, e.g. user_blocked.")
    from_status: str | None
    to_status: str | None


class OutcomeList(BaseModel):
    items: list[OutcomeOut]
    next_cursor: str | None = Field(description="Pass as `after` for the next page.")


def _checked(request: Request, make: Callable[[], T]) -> T | JSONResponse:
    """A rule that does not parse answers 422 naming the field, e.g. trigger.daily_at."""
    try:
        return make()
    except RuleInvalid as bad:
        return problem(
            422,
            bad.code,
            bad.title,
            bad.detail,
            request,
            field=bad.field,
            errors=[{"loc": bad.field.split("."), "msg": bad.detail, "type": "rule_invalid"}],
        )


@router.get("", response_model=RuleList, responses=responses(401, 403))
def list_rules(principal: AdminDep, container: ContainerDep) -> RuleList:
    """Every rule of the workspace."""
    rules = auto.list_rules(container.uow(), principal.workspace_id)
    return RuleList(items=[RuleOut.of(r) for r in rules])


@router.get("/templates/dormant", response_model=dict[str, Any], responses=responses(401, 403))
def dormant(
    principal: AdminDep,
    days: Annotated[int, Query(ge=1, le=3650)] = 90,
) -> dict[str, Any]:
    """A ready-made rule to edit and POST: deactivate users not seen for N days."""
    return dormant_template(days)


@router.post(
    "",
    status_code=201,
    response_model=RuleOut,
    responses=responses(401, 403, 422),
)
def create(
    body: RuleBody,
    principal: AdminDep,
    container: ContainerDep,
    request: Request,
    request_id: RequestIdDep,
) -> Any:
    """Save a rule. A bad definition answers 422 with `field` naming what is wrong."""
    made = _checked(
        request,
        lambda: auto.create_rule(
            container.uow(),
            workspace_id=principal.workspace_id,
            data=body,
            created_by=principal.actor,
            route=principal.route,
            now=container.clock(),
            allow_private_webhooks=container.settings.webhook_allow_private,
            request_id=request_id,
        ),
    )
    return made if isinstance(made, JSONResponse) else RuleOut.of(made)


@router.get("/{rule_id}", response_model=RuleOut, responses=responses(401, 403, 404))
def read(rule_id: str, principal: AdminDep, container: ContainerDep) -> RuleOut:
    return RuleOut.of(auto.get_rule(container.uow(), principal.workspace_id, rule_id))


@router.put("/{rule_id}", response_model=RuleOut, responses=responses(401, 403, 404, 422))
def replace(
    rule_id: str,
    body: RuleBody,
    principal: AdminDep,
    container: ContainerDep,
    request: Request,
    request_id: RequestIdDep,
) -> Any:
    """Replace a rule's definition (its runs stay)."""
    made = _checked(
        request,
        lambda: auto.update_rule(
            container.uow(),
            workspace_id=principal.workspace_id,
            rule_id=rule_id,
            data=body,
            route=principal.route,
            actor=principal.actor,
            now=container.clock(),
            allow_private_webhooks=container.settings.webhook_allow_private,
            request_id=request_id,
        ),
    )
    return made if isinstance(made, JSONResponse) else RuleOut.of(made)


@router.delete(
    "/{rule_id}", status_code=204, response_class=Response, responses=responses(401, 403, 404)
)
def remove(
    rule_id: str, principal: AdminDep, container: ContainerDep, request_id: RequestIdDep
) -> Response:
    """Delete a rule and its runs; the audit log keeps every change it made."""
    auto.delete_rule(
        container.uow(),
        workspace_id=principal.workspace_id,
        rule_id=rule_id,
        route=principal.route,
        actor=principal.actor,
        now=container.clock(),
        request_id=request_id,
    )
    return Response(status_code=204)


def _enable(
    rule_id: str, enabled: bool, principal: AdminDep, container: ContainerDep, request_id: str
) -> RuleOut:
    rule = auto.set_enabled(
        container.uow(),
        workspace_id=principal.workspace_id,
        rule_id=rule_id,
        enabled=enabled,
        route=principal.route,
        actor=principal.actor,
        now=container.clock(),
        request_id=request_id,
    )
    return RuleOut.of(rule)


@router.post("/{rule_id}/enable", response_model=RuleOut, responses=responses(401, 403, 404))
def enable(
    rule_id: str, principal: AdminDep, container: ContainerDep, request_id: RequestIdDep
) -> RuleOut:
    return _enable(rule_id, True, principal, container, request_id)


@router.post("/{rule_id}/disable", response_model=RuleOut, responses=responses(401, 403, 404))
def disable(
    rule_id: str, principal: AdminDep, container: ContainerDep, request_id: RequestIdDep
) -> RuleOut:
    return _enable(rule_id, False, principal, container, request_id)


@router.post(
    "/{rule_id}/runs",
    status_code=201,
    response_model=RunOut,
    responses=responses(401, 403, 404, 422),
)
def start(
    rule_id: str,
    principal: AdminDep,
    container: ContainerDep,
    body: RunBody | None = None,
) -> RunOut:
    """Run the rule now, or dry-run it (`{"dry_run": true}`: outcomes, nothing changed).
    A Blocked user it tries to change is the outcome `refused: user_blocked`."""
    run = auto.start_run(
        container.uow(),
        workspace_id=principal.workspace_id,
        rule_id=rule_id,
        dry_run=bool(body and body.dry_run),
        clock=container.clock,
        tuning=container.jobs,
    )
    view = auto.read_run(container.uow(), principal.workspace_id, rule_id, run.id)
    return RunOut.of(view.run, view.refused_by_code)


@router.get("/{rule_id}/runs", response_model=RunList, responses=responses(401, 403, 404))
def runs(
    rule_id: str,
    principal: AdminDep,
    container: ContainerDep,
    before: Annotated[str | None, Query(max_length=40, description="The cursor.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RunList:
    """The rule's runs, newest first."""
    found = auto.list_runs(
        container.uow(), principal.workspace_id, rule_id, limit=limit, before=before
    )
    return RunList(
        items=[RunOut.of(r) for r in found],
        next_cursor=found[-1].id if len(found) == limit else None,
    )


@router.get("/{rule_id}/runs/{run_id}", response_model=RunOut, responses=responses(401, 403, 404))
def run(rule_id: str, run_id: str, principal: AdminDep, container: ContainerDep) -> RunOut:
    view = auto.read_run(container.uow(), principal.workspace_id, rule_id, run_id)
    return RunOut.of(view.run, view.refused_by_code)


@router.get(
    "/{rule_id}/runs/{run_id}/outcomes",
    response_model=OutcomeList,
    responses=responses(401, 403, 404),
)
def outcomes(
    rule_id: str,
    run_id: str,
    principal: AdminDep,
    container: ContainerDep,
    after: Annotated[str | None, Query(max_length=40, description="The cursor.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> OutcomeList:
    """Each user's outcome, in user-id order."""
    found = auto.list_outcomes(
        container.uow(), principal.workspace_id, rule_id, run_id, after=after, limit=limit
    )
    items = [
        OutcomeOut(
            user_id=o.user_id,
            email=o.email,
            result=o.result,
            code=o.code,
            from_status=o.from_status,
            to_status=o.to_status,
        )
        for o in found
    ]
    return OutcomeList(items=items, next_cursor=items[-1].user_id if len(items) == limit else None)
