"""The audit log: every attempt, applied or refused, and every admin action, filtered,
and exported as CSV."""

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from roster.domain import errors
from roster.domain.audit import AuditEntry, AuditKind
from roster.domain.filters import AuditFilter
from roster.domain.vocabulary import Route
from roster.entrypoints.web.admin.rendering import render
from roster.entrypoints.web.admin.session import AdminDep, AdminSession
from roster.entrypoints.web.admin.views import reading
from roster.entrypoints.web.deps import ContainerDep
from roster.services import admin_queries, queries
from roster.services.admin_queries import AuditRow

router = APIRouter()
OUTCOMES = [
    *("applied", "refused", "user_blocked", "transition_not_allowed", "reason_required"),
    *("cannot_change_own_status", "last_owner", "seat_limit_reached", "version_conflict"),
]
CSV_COLUMNS = [
    *("seq", "at", "kind", "user_id", "email", "from_status", "to_status", "changes"),
    *("route", "actor_name", "outcome", "reason_code", "note", "request_id", "batch_id"),
]
KINDS = {
    AuditKind.STATUS: "Status change",
    AuditKind.SETTINGS_CHANGED: "Workspace settings changed",
    AuditKind.ROLE_CHANGED: "Role changed",
    AuditKind.CREDENTIAL_CREATED: "Token created",
    AuditKind.CREDENTIAL_REVOKED: "Token revoked",
    AuditKind.AUTOMATION_CHANGED: "Automation changed",
    AuditKind.REVIEW_RECORDED: "Review recorded",
    AuditKind.EXPIRY_CHANGED: "Expiry changed",
    AuditKind.WEBHOOK_CHANGED: "Webhook changed",
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _filters(
    container: ContainerDep, admin: AdminSession, params: dict[str, str]
) -> tuple[AuditFilter, dict[str, str]]:
    """The filter the query string asks for, and plain-word problems by field."""
    problems: dict[str, str] = {}
    user_id = None
    if who := params.get("user", "").strip():
        try:
            with reading(container) as conn:
                view = (
                    queries.user_by_email(conn, admin.workspace_id, who)
                    if "@" in who
                    else queries.user_by_id(conn, admin.workspace_id, who)
                )
            user_id = view.user.id
        except errors.DomainError:
            problems["user"] = "No user with that email or id in this workspace."
    route = params.get("route", "")
    if route and route not in Route._value2member_map_:
        problems["route"] = "Choose one of the listed routes."
    kind = params.get("kind", "")
    if kind and kind not in AuditKind._value2member_map_:
        problems["kind"] = "Choose one of the listed kinds."
    outcome = params.get("outcome", "")
    if outcome and outcome not in OUTCOMES:
        problems["outcome"] = "Choose one of the listed outcomes."
    since = _day(params.get("since", ""), "since", problems)
    until = _day(params.get("until", ""), "until", problems)
    if until and until.date() == date.max:
        problems["until"] = "Choose an earlier end date."
    elif since and until and until <= since:
        problems["until"] = "The end date must be on or after the start date."
    f = AuditFilter(
        user_id=user_id,
        kind=(AuditKind(kind),) if kind and "kind" not in problems else (),
        route=(Route(route),) if route and "route" not in problems else (),
        outcome=outcome if outcome and "outcome" not in problems else None,
        since=since,
        until=until + timedelta(days=1) if until and "until" not in problems else None,
    )
    return f, problems


def _day(value: str, field: str, problems: dict[str, str]) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
    except ValueError:
        problems[field] = "Write the date as YYYY-MM-DD."
        return None


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    admin: AdminDep,
    container: ContainerDep,
    before: Annotated[int | None, Query(ge=0, lt=2**63)] = None,  # a sequence number
) -> HTMLResponse:
    params = dict(request.query_params)
    f, problems = _filters(container, admin, params)
    rows: list[AuditRow] = []
    next_before = None
    if not problems:
        with reading(container) as conn:
            rows, next_before = admin_queries.audit_page(
                conn, admin.workspace_id, f, before_seq=before
            )
    keep = {k: v for k, v in params.items() if k != "before" and v}
    return render(
        request,
        "audit/list.html",
        status_code=422 if problems else 200,
        title="Audit log",
        rows=rows,
        next_before=next_before,
        params=keep,
        routes=list(Route),
        outcomes=OUTCOMES,
        kinds=KINDS,
        in_words=in_words,
        errors=problems,
    )


def in_words(e: AuditEntry) -> list[str]:
    """An admin action's changes in plain words, one line per field:
    "Allow API unblock: off → on"."""
    return [
        f"{_field(name)}: {_value(before)} → {_value(after)}"
        for name, (before, after) in sorted((e.changes or {}).items())
    ]


def _field(name: str) -> str:
    return name.replace("_", " ").capitalize().replace("api", "API")


def _value(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str | int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def defuse(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(getattr(value, "value", value))
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_lines(rows: Iterator[AuditRow]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        e = row.entry
        writer.writerow(
            defuse(v)
            for v in (e.seq, e.at.isoformat(), e.kind, e.user_id, row.email, e.from_status,
                      e.to_status, _changes(e), e.route, e.actor_name, e.outcome, e.reason_code,
                      e.note, e.request_id, e.batch_id)
        )  # fmt: skip
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _changes(e: AuditEntry) -> str | None:
    if e.changes is None:
        return None
    return json.dumps(e.changes, ensure_ascii=False, sort_keys=True)


@router.get("/audit.csv")
def audit_csv(request: Request, admin: AdminDep, container: ContainerDep) -> Response:
    """The filtered log, oldest first, as CSV (streamed a chunk at a time)."""
    f, problems = _filters(container, admin, dict(request.query_params))
    if problems:
        return render(
            request, "audit/list.html", status_code=422, title="Audit log", rows=[],
            next_before=None, params={}, routes=list(Route), outcomes=OUTCOMES, kinds=KINDS,
            in_words=in_words, errors=problems,
        )  # fmt: skip

    def lines() -> Iterator[str]:
        with reading(container) as conn:
            yield from _csv_lines(admin_queries.iter_audit(conn, admin.workspace_id, f))

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="roster-audit.csv"'},
    )
