"""Bulk action pages: choose users (a selection from the users page, or a filter),
confirm with a preview, then follow the job's progress and read its results."""

import secrets
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from roster.domain import errors
from roster.domain.filters import UserFilter, instant
from roster.domain.vocabulary import ReasonCode, Role, Status
from roster.entrypoints.web.admin.refusal_words import why_refused
from roster.entrypoints.web.admin.rendering import redirect, render
from roster.entrypoints.web.admin.session import AdminDep, AdminSession
from roster.entrypoints.web.admin.views import PageNotFound
from roster.entrypoints.web.api.bulk import csv_download
from roster.entrypoints.web.deps import ContainerDep
from roster.services import bulk

router = APIRouter()  # paths are relative to /admin
PAGE = 100

# Each outcome in words: what a job did, or what a dry run would have done.
DONE = {"applied": "Changed", "unchanged": "Unchanged", "refused": "Refused"}
WOULD = {
    "applied": "Would change",
    "unchanged": "Would stay as they are",
    "refused": "Would be refused",
}


class Choice:
    """What the confirm form carries: the selection and the change, as raw strings."""

    def __init__(
        self,
        user_ids: list[str],
        status: str,
        reason_code: str,
        note: str,
        f_status: str,
        f_role: str,
        q: str,
        seen_before: str,
        seen_after: str,
    ) -> None:
        self.user_ids = [u for u in user_ids if u]
        self.status, self.reason_code, self.note = status, reason_code, note.strip()
        self.f_status, self.f_role, self.q = f_status, f_role, q.strip()
        self.seen_before, self.seen_after = seen_before, seen_after

    def request(self, errs: dict[str, str]) -> bulk.BulkRequest | None:
        """The bulk request, or None with messages for the fields that are wrong."""
        to = _enum(Status, self.status, "status", "Choose the status to set.", errs)
        reason = _enum(ReasonCode, self.reason_code, "reason_code", "", errs, optional=True)
        chosen_filter = None
        if not self.user_ids:
            chosen_filter = UserFilter(
                status=_tuple(_enum(Status, self.f_status, "f_status", "", errs, optional=True)),
                role=_tuple(_enum(Role, self.f_role, "f_role", "", errs, optional=True)),
                q=self.q or None,
                last_seen_before=_day(self.seen_before, "seen_before", errs),
                last_seen_after=_day(self.seen_after, "seen_after", errs),
            )
        if errs or to is None:
            return None
        return bulk.BulkRequest(
            to,
            user_ids=tuple(self.user_ids) if self.user_ids else None,
            filter=chosen_filter,
            reason_code=reason,
            note=self.note or None,
        )


E = TypeVar("E", Status, Role, ReasonCode)
T = TypeVar("T")


def _enum(
    kind: type[E], raw: str, field: str, missing: str, errs: dict[str, str], optional: bool = False
) -> E | None:
    if not raw:
        if not optional:
            errs[field] = missing
        return None
    try:
        return kind(raw)
    except ValueError:
        errs[field] = "Choose one of the listed values."
        return None


def _tuple(value: T | None) -> tuple[T, ...] | None:
    return (value,) if value is not None else None


def _day(raw: str, field: str, errs: dict[str, str]) -> datetime | None:
    """A day (midnight UTC) or an instant, as the API and the CLI take it."""
    if not raw:
        return None
    try:
        return instant(raw)
    except ValueError:
        errs[field] = "Write a date as YYYY-MM-DD."
        return None


def _choice(
    user_ids: list[str],
    status: str = "",
    reason_code: str = "",
    note: str = "",
    f_status: str = "",
    f_role: str = "",
    q: str = "",
    seen_before: str = "",
    seen_after: str = "",
) -> Choice:
    return Choice(user_ids, status, reason_code, note, f_status, f_role, q, seen_before, seen_after)


Ids = Annotated[list[str], Form()]
Text = Annotated[str, Form()]


@router.get("/bulk-actions", response_class=HTMLResponse)
def bulk_home(request: Request, admin: AdminDep, container: ContainerDep) -> HTMLResponse:
    """Recent bulk actions, and a form to start one by filter."""
    jobs = bulk.list_jobs(container.uow(), admin.workspace_id)
    return render(request, "bulk/home.html", title="Bulk actions", jobs=jobs, **_vocabulary())


@router.post("/bulk-actions/new", response_class=HTMLResponse)
def confirm(
    request: Request,
    admin: AdminDep,
    container: ContainerDep,
    user_ids: Ids = [],  # noqa: B006 - FastAPI copies form defaults
    status: Text = "",
    reason_code: Text = "",
    note: Text = "",
    f_status: Text = "",
    f_role: Text = "",
    q: Text = "",
    seen_before: Text = "",
    seen_after: Text = "",
) -> HTMLResponse:
    """The confirm page: the selection, the change, and (once a status is chosen)
    the preview of what it would do, before anything is written."""
    choice = _choice(
        user_ids, status, reason_code, note, f_status, f_role, q, seen_before, seen_after
    )
    errs: dict[str, str] = {}
    preview = None
    if status:
        req = choice.request(errs)
        if req is not None:
            preview = _preview(container, admin, req, errs)
    return render(
        request,
        "bulk/confirm.html",
        status_code=422 if errs else 200,
        title="Confirm bulk action",
        choice=choice,
        preview=preview,
        errors=errs,
        nonce=secrets.token_hex(12),
        **_vocabulary(),
    )


def _preview(
    container: ContainerDep, admin: AdminSession, req: bulk.BulkRequest, errs: dict[str, str]
) -> bulk.Preview | None:
    try:
        return bulk.preview(
            container.uow(),
            workspace_id=admin.workspace_id,
            request=req,
            actor=admin.principal.actor,
        )
    except errors.InvalidInput as bad:
        errs["selection"] = bad.detail
        return None


@router.post("/bulk-actions", response_model=None)
def start(
    request: Request,
    admin: AdminDep,
    container: ContainerDep,
    nonce: Text,
    user_ids: Ids = [],  # noqa: B006 - FastAPI copies form defaults
    status: Text = "",
    reason_code: Text = "",
    note: Text = "",
    f_status: Text = "",
    f_role: Text = "",
    q: Text = "",
    seen_before: Text = "",
    seen_after: Text = "",
) -> Response:
    """Queue the job (route bulk) and go to its progress page. The form's nonce is
    the idempotency key, so a double submit starts one job."""
    choice = _choice(
        user_ids, status, reason_code, note, f_status, f_role, q, seen_before, seen_after
    )
    errs: dict[str, str] = {}
    req = choice.request(errs)
    if req is None:
        return render(
            request, "bulk/confirm.html", status_code=422, title="Confirm bulk action",
            choice=choice, preview=None, errors=errs, nonce=nonce, **_vocabulary(),
        )  # fmt: skip
    job, _ = bulk.start_job(
        container.uow(),
        workspace_id=admin.workspace_id,
        request=req,
        actor=admin.principal.actor,
        now=container.clock(),
        idempotency_key=f"admin:{nonce[:64]}",
    )
    return redirect(request, f"/admin/bulk-actions/{job.id}", flash="Bulk action started.")


@router.get("/bulk-actions/{job_id}", response_class=HTMLResponse)
def progress(
    request: Request,
    job_id: str,
    admin: AdminDep,
    container: ContainerDep,
    after: Annotated[str | None, Query(max_length=40)] = None,
    outcome: Annotated[str | None, Query(pattern="^(applied|unchanged|refused)$")] = None,
) -> HTMLResponse:
    """State, progress and counts; refreshes itself while running; the results."""
    try:
        job = bulk.get_job(container.uow(), admin.workspace_id, job_id)
    except errors.NotFound as missing:
        raise PageNotFound(missing.detail) from None
    rows = bulk.list_results(
        container.uow(), admin.workspace_id, job_id, after=after, limit=PAGE, outcome=outcome
    )
    return render(
        request,
        "bulk/job.html",
        title="Bulk action",
        job=job,
        words=WOULD if job.dry_run else DONE,
        why_refused=why_refused,
        rows=rows,
        outcome=outcome,
        next_after=rows[-1].user_id if len(rows) == PAGE else None,
    )


@router.get("/bulk-actions/{job_id}/results.csv", response_model=None)
def results_csv(job_id: str, admin: AdminDep, container: ContainerDep) -> StreamingResponse:
    try:
        bulk.get_job(container.uow(), admin.workspace_id, job_id)
    except errors.NotFound as missing:
        raise PageNotFound(missing.detail) from None
    return csv_download(container, admin.workspace_id, job_id)


def _vocabulary() -> dict[str, Any]:
    return {
        "statuses": list(Status),
        "roles": list(Role),
        "reasons": list(ReasonCode),
        "why_refused": why_refused,
    }
