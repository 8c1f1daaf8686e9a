"""The audit log in the REST API: read-only (no API edits or deletes it), newest
first, filtered, as JSON pages or as one CSV download."""

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from roster.bootstrap import Container
from roster.domain.audit import AuditEntry, AuditKind
from roster.domain.filters import AuditFilter, instant
from roster.domain.vocabulary import Route
from roster.entrypoints.web.api.pages import Cursor, Page, page_size
from roster.entrypoints.web.api.schemas import AuditEventOut, Text
from roster.entrypoints.web.deps import AdminDep, ContainerDep
from roster.entrypoints.web.problems import responses
from roster.services import queries
from roster.services.cursors import decode_cursor, encode_cursor

router = APIRouter(prefix="/audit-events", tags=["audit"])

CSV_COLUMNS = list(AuditEventOut.model_fields)
CSV_PAGE = 1000
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

CSV_RESPONSE = {
    200: {
        "description": "A page of events (JSON), or every matching event (CSV).",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "",
    response_model=Page[AuditEventOut],
    responses=CSV_RESPONSE | responses(401, 403, 422),  # type: ignore[operator]
)
def list_events(
    admin: AdminDep,
    container: ContainerDep,
    user: Annotated[Text | None, Query(max_length=100, description="A user's id.")] = None,
    kind: Annotated[
        list[AuditKind] | None,
        Query(description="Any of these kinds: `status` or an admin action."),
    ] = None,
    route: Annotated[list[Route] | None, Query(description="Any of these routes.")] = None,
    outcome: Annotated[
        Text | None,
        Query(max_length=40, description="`applied`, `refused` (any refusal) or a code."),
    ] = None,
    actor: Annotated[
        Text | None,
        Query(max_length=100, description="The actor's id (a user, or a token's id)."),
    ] = None,
    since: Annotated[datetime | None, Query(description="At or after (inclusive).")] = None,
    until: Annotated[datetime | None, Query(description="Before (exclusive).")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, page_size(500)] = 100,
    format: Annotated[
        Literal["json", "csv"] | None,
        Query(description="csv: download every matching event (or send Accept: text/csv)."),
    ] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Page[AuditEventOut] | StreamingResponse:
    """Audit events of the workspace, newest first: every status change attempt,
    applied or refused, and every admin action (its `kind` and `changes`), with who,
    which route, which request, when and why."""
    where = AuditFilter(
        user_id=user,
        kind=tuple(kind or ()),
        route=tuple(route or ()),
        outcome=outcome,
        actor_id=actor,
        since=instant(since) if since else None,
        until=instant(until) if until else None,
    )
    before = decode_cursor(cursor, tuple[int])[0] if cursor else None
    if format == "csv" or (format is None and _wants_csv(accept)):
        return _csv(container, admin.workspace_id, where, before)
    with container.engine.connect() as conn:
        page = queries.page_audit(
            conn, admin.workspace_id, where=where, before_seq=before, limit=limit
        )
    return Page[AuditEventOut](
        items=[AuditEventOut.of(e) for e in page.entries],
        next_cursor=encode_cursor(page.next_before) if page.next_before is not None else None,
    )


def _wants_csv(accept: str | None) -> bool:
    kinds = [part.split(";")[0].strip().lower() for part in (accept or "").split(",")]
    return "text/csv" in kinds and "application/json" not in kinds


def _csv(
    container: Container, workspace_id: str, where: AuditFilter, before: int | None
) -> StreamingResponse:
    stamp = container.clock().strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        _csv_lines(container, workspace_id, where, before),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )


def _csv_lines(
    container: Container, workspace_id: str, where: AuditFilter, before: int | None
) -> Iterator[str]:
    """The header, then every matching event, read a page at a time."""
    yield _row(CSV_COLUMNS)
    while True:
        with container.engine.connect() as conn:
            page = queries.page_audit(
                conn, workspace_id, where=where, before_seq=before, limit=CSV_PAGE
            )
        yield "".join(_row(_cells(e)) for e in page.entries)
        if page.next_before is None:
            return
        before = page.next_before


def _cells(e: AuditEntry) -> list[str]:
    data = AuditEventOut.of(e).model_dump(mode="json")
    return [defuse(_cell(data[c])) for c in CSV_COLUMNS]


def _cell(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def defuse(cell: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with `'`, so it is shown
    as text (OWASP's advice against CSV injection). Notes are free text."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _row(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()
