"""Bulk actions in the REST API (background.py runs their jobs)."""

import csv
import io
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from roster.bootstrap import Container
from roster.domain.bulk import Job
from roster.domain.filters import UserFilter, instant
from roster.domain.jobs import ResultRow
from roster.domain.vocabulary import ReasonCode, Role, Status
from roster.entrypoints.web.api.audit import defuse
from roster.entrypoints.web.api.pages import Cursor, Page, cursor_id, page_of, page_size
from roster.entrypoints.web.api.schemas import storable
from roster.entrypoints.web.api.users import AFTER, BEFORE
from roster.entrypoints.web.deps import AdminDep, ContainerDep
from roster.entrypoints.web.problems import responses
from roster.services import bulk

router = APIRouter(prefix="/bulk-actions", tags=["bulk actions"])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _storable(self) -> "_Strict":
        """No NUL or lone surrogate in any text (PostgreSQL keeps neither): checked on
        the joined text, so a million ids cost one pass."""
        texts = [v for v in self.__dict__.values() if isinstance(v, str)]
        texts += [
            i
            for v in self.__dict__.values()
            if isinstance(v, list)
            for i in v
            if isinstance(i, str)
        ]
        storable("".join(texts))
        return self


class BulkFilter(_Strict):
    """Every given part must hold."""

    status: list[Status] | None = None
    role: list[Role] | None = None
    q: str | None = Field(default=None, max_length=200, description="Text in email or name.")
    last_seen_before: datetime | None = Field(default=None, description=BEFORE)
    last_seen_after: datetime | None = Field(default=None, description=AFTER)

    def domain(self) -> UserFilter:
        return UserFilter(
            status=tuple(self.status) if self.status else None,
            role=tuple(self.role) if self.role else None,
            q=self.q,
            last_seen_before=instant(self.last_seen_before) if self.last_seen_before else None,
            last_seen_after=instant(self.last_seen_after) if self.last_seen_after else None,
        )


class BulkActionBody(_Strict):
    status: Status
    user_ids: list[Annotated[str, Field(max_length=40)]] | None = Field(
        default=None, max_length=bulk.MAX_IDS, description="Up to 1,000,000 ids."
    )
    filter: BulkFilter | None = None
    reason_code: ReasonCode | None = None
    note: str | None = Field(default=None, max_length=2000)
    dry_run: bool = Field(default=False, description="Only record what would happen.")


class Counts(BaseModel):
    applied: int = Field(description="Changed (in a dry run: would change).")
    unchanged: int
    refused: int
    refused_by_code: dict[str, int]


class BulkJobOut(BaseModel):
    id: str
    state: Literal["queued", "running", "done", "failed"]
    dry_run: bool
    status: Status
    reason_code: ReasonCode | None
    note: str | None
    selection: dict[str, Any]
    total: int = Field(description="Users selected when the job was created.")
    processed: int
    progress: float = Field(ge=0, le=1)
    counts: Counts
    active_users_delta: int = Field(description="Change to the active (billable) user count.")
    revoked: dict[str, int]
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    results_url: str

    @classmethod
    def of(cls, job: Job) -> "BulkJobOut":
        t = job.tally
        return cls(
            id=job.id,
            state=job.state,
            dry_run=job.dry_run,
            status=job.to,
            reason_code=job.reason_code,
            note=job.note,
            selection=job.selection,
            total=job.total,
            processed=job.processed,
            progress=job.progress,
            counts=Counts(
                applied=t.applied,
                unchanged=t.unchanged,
                refused=t.refused_total,
                refused_by_code=t.refused,
            ),
            active_users_delta=t.active_delta,
            revoked=job.revoked,
            created_by=job.actor.name,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            error=job.error,
            results_url=f"/api/v1/bulk-actions/{job.id}/results",
        )


class ResultOut(BaseModel):
    user_id: str
    email: str | None
    name: str | None
    from_status: Status | None
    outcome: Literal["applied", "unchanged", "refused"]
    code: str | None


@router.post(
    "",
    status_code=202,
    response_model=BulkJobOut,
    responses=responses(401, 403, 413, 422),
)
def create(
    body: BulkActionBody,
    principal: AdminDep,
    container: ContainerDep,
    response: Response,
    idempotency_key: Annotated[
        str | None, Header(description="Retrying with the same key returns the same job.")
    ] = None,
) -> BulkJobOut:
    """Queue a bulk action (route bulk). It runs in the background; follow it at
    `GET /bulk-actions/{id}`. A Blocked user is never changed: their result is
    `refused: user_blocked`."""
    request = bulk.BulkRequest(
        to=body.status,
        user_ids=tuple(body.user_ids) if body.user_ids is not None else None,
        filter=body.filter.domain() if body.filter is not None else None,
        reason_code=body.reason_code,
        note=body.note,
        dry_run=body.dry_run,
    )
    job, _ = bulk.start_job(
        container.uow(),
        workspace_id=principal.workspace_id,
        request=request,
        actor=principal.actor,
        now=container.clock(),
        idempotency_key=idempotency_key,
    )
    response.headers["Location"] = f"/api/v1/bulk-actions/{job.id}"
    return BulkJobOut.of(job)


@router.get("", response_model=Page[BulkJobOut], responses=responses(401, 403, 422))
def recent(
    principal: AdminDep,
    container: ContainerDep,
    cursor: Cursor = None,
    limit: Annotated[int, page_size(200)] = 20,
) -> Page[BulkJobOut]:
    """The workspace's bulk actions, newest first."""
    before = cursor_id(cursor)
    jobs = bulk.list_jobs(container.uow(), principal.workspace_id, before=before, limit=limit + 1)
    return page_of(Page[BulkJobOut], jobs, limit, BulkJobOut.of, lambda j: (j.id,))


@router.get("/{job_id}", response_model=BulkJobOut, responses=responses(401, 403, 404))
def read(job_id: str, principal: AdminDep, container: ContainerDep) -> BulkJobOut:
    """A bulk action's state, progress and counts."""
    return BulkJobOut.of(bulk.get_job(container.uow(), principal.workspace_id, job_id))


CSV_HEADER = ("user_id", "email", "name", "from_status", "outcome", "code")


@router.get(
    "/{job_id}/results",
    response_model=Page[ResultOut],
    responses=responses(401, 403, 404, 422)
    | {200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def results(
    job_id: str,
    principal: AdminDep,
    container: ContainerDep,
    request: Request,
    cursor: Cursor = None,
    limit: Annotated[int, page_size(1000)] = 100,
    outcome: Literal["applied", "unchanged", "refused"] | None = None,
    format: Literal["json", "csv"] | None = None,
) -> Any:
    """Each user's result, in user-id order (cursor pagination), or every result as
    CSV with `?format=csv` or `Accept: text/csv`."""
    after = cursor_id(cursor)
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        bulk.get_job(container.uow(), principal.workspace_id, job_id)  # 404 before streaming
        return csv_download(container, principal.workspace_id, job_id)
    rows = bulk.list_results(
        container.uow(), principal.workspace_id, job_id, after=after, limit=limit + 1,
        outcome=outcome,
    )  # fmt: skip
    return page_of(Page[ResultOut], rows, limit, _result, lambda r: (r.user_id,))


def _result(r: ResultRow) -> ResultOut:
    return ResultOut(**asdict(r), outcome=r.result)


def csv_download(container: Container, workspace_id: str, job_id: str) -> StreamingResponse:
    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        out = csv.writer(buffer)
        out.writerow(CSV_HEADER)
        for n, r in enumerate(bulk.iter_results(container.uow(), workspace_id, job_id)):
            out.writerow(
                (
                    r.user_id,
                    defuse(r.email or ""),
                    defuse(r.name or ""),
                    r.from_status.value if r.from_status else "",
                    r.result,
                    r.code or "",
                )
            )
            if n % 1000 == 999:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        lines(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="bulk-{job_id}.csv"'},
    )
