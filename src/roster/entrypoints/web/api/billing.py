"""Billing in the REST API: the exact active user count, and usage over time.
(The nightly snapshot job is a tick in background.py.)"""

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from roster.bootstrap import Container
from roster.domain import errors
from roster.domain.credentials import CredentialKind, Principal
from roster.entrypoints.web.deps import ContainerDep, PrincipalDep
from roster.entrypoints.web.problems import responses
from roster.services import billing, queries

router = APIRouter(prefix="/billing", tags=["billing"])


def _may_read_billing(principal: Principal) -> None:
    """Owners and admins, and integrations (service tokens) that bill the workspace."""
    if not (principal.is_admin or principal.kind == CredentialKind.SERVICE):
        raise errors.Forbidden("Only owners, admins and service tokens may read billing.")


class ActiveUsersOut(BaseModel):
    active: int = Field(description="Active (billable) users now, from the exact counter.")
    inactive: int
    blocked: int
    seat_limit: int | None
    as_of: datetime


class DayOut(BaseModel):
    date: date
    peak: int = Field(description="The most users Active at any one instant of the day.")
    closing: int = Field(description="Active users at the day's end.")
    seat_days: int = Field(description="Distinct users Active at some instant of the day.")


class TotalsOut(BaseModel):
    peak: int = Field(description="The highest daily peak of the period.")
    closing: int = Field(description="The last day's closing count.")
    seat_days: int = Field(description="The sum of the days' seat-days.")


class UsageOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    timezone: str = Field(description="The zone whose midnights bound the days.")
    days: list[DayOut]
    totals: TotalsOut


class ActiveAtOut(BaseModel):
    at: datetime
    active: int = Field(description="Active users at that instant, replayed from the audit log.")


CSV_RESPONSE = {
    200: {
        "description": "Usage per day (JSON), or as CSV with a `total` line.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "/active-users",
    response_model=ActiveUsersOut,
    responses=responses(401, 403),
)
def active_users(principal: PrincipalDep, container: ContainerDep) -> ActiveUsersOut:
    """The workspace's users by status now: one read of the exact counter row."""
    _may_read_billing(principal)
    with container.engine.connect() as conn:
        counts = billing.active_users(
            conn, principal.workspace_id, principal.policy, container.clock()
        )
    return ActiveUsersOut(
        active=counts.active,
        inactive=counts.inactive,
        blocked=counts.blocked,
        seat_limit=counts.seat_limit,
        as_of=counts.as_of,
    )


@router.get(
    "/usage",
    response_model=UsageOut | ActiveAtOut,
    responses=CSV_RESPONSE | responses(401, 403, 422),  # type: ignore[operator]
)
def usage(
    principal: PrincipalDep,
    container: ContainerDep,
    from_: Annotated[
        date | None, Query(alias="from", description="First day (the workspace's days).")
    ] = None,
    to: Annotated[date | None, Query(description="Last day, inclusive.")] = None,
    at: Annotated[
        datetime | None,
        Query(
            description="Instead of a period: the Active count at this instant (UTC if no zone)."
        ),
    ] = None,
    format: Annotated[
        Literal["json", "csv"] | None, Query(description="csv, or send Accept: text/csv.")
    ] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> UsageOut | ActiveAtOut | Response:
    """Per day from `from` to `to`: the peak and closing number of Active users and the
    seat-days, replayed from the audit history; or, with `at`, the count at an instant."""
    _may_read_billing(principal)
    csv = format == "csv" or (format is None and _wants_csv(accept))
    if at is not None:
        return _active_at(container, principal, at, csv=csv)
    if from_ is None or to is None:
        raise errors.InvalidInput("Give `from` and `to` (dates), or `at` (an instant).")
    with container.engine.connect() as conn:
        workspace = queries.workspace_by_id(conn, principal.workspace_id)
        report = billing.usage(conn, workspace, from_, to)
    if csv:
        name = f"usage-{workspace.slug}-{from_.isoformat()}-{to.isoformat()}.csv"
        return _csv(billing.as_csv(report), name)
    return UsageOut.model_validate(report.as_dict())


def _active_at(
    container: Container, principal: Principal, at: datetime, *, csv: bool
) -> Response | ActiveAtOut:
    instant = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    with container.engine.connect() as conn:
        workspace = queries.workspace_by_id(conn, principal.workspace_id)
        active = billing.active_at(conn, workspace, instant)
    if csv:
        return _csv(f"at,active\r\n{instant.isoformat()},{active}\r\n", "active-users.csv")
    return ActiveAtOut(at=instant, active=active)


def _wants_csv(accept: str | None) -> bool:
    kinds = [part.split(";")[0].strip().lower() for part in (accept or "").split(",")]
    return "text/csv" in kinds and "application/json" not in kinds


def _csv(body: str, filename: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
