"""The users page and a user's profile, where an admin reads and changes the Status."""

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection

from roster.domain import errors
from roster.domain.filters import UserFilter
from roster.domain.transitions import allowed_targets
from roster.domain.vocabulary import ReasonCode, Status
from roster.domain.workspaces import UserCounts
from roster.entrypoints.web.admin.carried import redirect_refused
from roster.entrypoints.web.admin.rendering import redirect, render
from roster.entrypoints.web.admin.reviews import check_review_field
from roster.entrypoints.web.admin.session import AdminDep, AdminSession
from roster.entrypoints.web.admin.views import PageNotFound, reading
from roster.entrypoints.web.deps import ContainerDep, RequestIdDep
from roster.services import admin_queries, bulk, queries
from roster.services.access import PasswordMismatch, change_on_profile
from roster.services.queries import UserView
from roster.services.status import ChangeResult
from roster.services.throttle import TooManyAttempts

router = APIRouter()
PAGE_SIZE = 50
STATUSES = list(Status)
DEFAULT_SORT = "name"
# The sortable columns: sort key (as the API's `sort`) → heading. `-key` sorts descending.
SORT_COLUMNS = {
    "name": "Name",
    "email": "Email",
    "status": "Status",
    "last_seen_at": "Last seen",
    "created_at": "Created",
}

# Where each refusal's message goes on the profile form.
FIELD_OF_CODE = {
    errors.VersionConflict.code: "form",
    errors.InvalidInput.code: "form",
    PasswordMismatch.code: "password",
    TooManyAttempts.code: "password",
}


def _status_or_none(value: str) -> Status | None:
    return Status(value) if value in Status._value2member_map_ else None


@router.get("/users", response_class=HTMLResponse)
def users_page(
    request: Request,
    admin: AdminDep,
    container: ContainerDep,
    q: str = "",
    status: str = "",
    sort: str = DEFAULT_SORT,
    after: str | None = None,
    before: str | None = None,
) -> HTMLResponse:
    """Search, a status filter with exact counts (the counter row, no count(*)),
    columns sorted by name (the default) or another key, and keyset pages of 50."""
    chosen = _status_or_none(status)
    sort = sort if sort.removeprefix("-") in SORT_COLUMNS else DEFAULT_SORT
    where = UserFilter(status=(chosen,) if chosen else None, q=q[:200])
    with reading(container) as conn:
        counts = queries.user_counts_of(conn, admin.workspace_id)
        try:
            found = admin_queries.find_users(
                conn, admin.workspace_id, where, sort=sort, after=after, before=before,
                limit=PAGE_SIZE,
            )  # fmt: skip
        except errors.InvalidInput:  # a cursor of another sort, or mangled: page one
            found = admin_queries.find_users(
                conn, admin.workspace_id, where, sort=sort, limit=PAGE_SIZE
            )
    kept = {"q": q[:200], "status": chosen.value if chosen else "", "sort": sort}
    return render(
        request,
        "users/list.html",
        title="Users",
        counts=counts,
        total=counts.active + counts.inactive + counts.blocked,
        statuses=STATUSES,
        q=q,
        status=chosen,
        sort=sort,
        columns=SORT_COLUMNS,
        here=lambda **change: users_url(kept | change),
        page=found,
        rows=found.items,
        matching=_matching(container, admin, where, counts, found),
    )


def users_url(params: dict[str, str]) -> str:
    """The users page with these query parameters (empty ones and the default sort left out)."""
    kept = {k: v for k, v in params.items() if v and not (k == "sort" and v == DEFAULT_SORT)}
    return f"/admin/users?{urlencode(kept)}" if kept else "/admin/users"


def _matching(
    container: ContainerDep,
    admin: AdminSession,
    where: UserFilter,
    counts: UserCounts,
    found: admin_queries.Page[admin_queries.ListedUser],
) -> int:
    """How many users the page's filter selects, for "select all N matching": the
    counter row's exact counts without a search; with one, the page itself when it
    is the only page, else a count."""
    if not where.q:
        if where.status:
            return counts.of(where.status[0])
        return counts.active + counts.inactive + counts.blocked
    if found.next_after is None and found.prev_before is None:
        return len(found.items)
    return bulk.count_selected(container.uow(), admin.workspace_id, where)


def _profile(
    request: Request,
    admin: AdminSession,
    container: ContainerDep,
    user_id: str,
    *,
    status_code: int = 200,
    form_errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    with reading(container) as conn:
        view = _user(conn, admin, user_id)
        counts = queries.user_counts_of(conn, admin.workspace_id)
        history = list(reversed(queries.audit_for_user(conn, admin.workspace_id, user_id)))
    user = view.user
    targets = allowed_targets(user.status, admin.principal.route, admin.principal.policy)
    return render(
        request,
        "users/profile.html",
        status_code=status_code,
        title=user.name,
        view=view,
        user=user,
        is_self=user.id == admin.user.id,
        targets=[(t, _effect(counts, view, t)) for t in targets],
        active_now=counts.active,
        lifts_block=_lifts_block(view),
        can_block=Status.BLOCKED in targets,
        reasons=list(ReasonCode),
        history=history,
        errors=form_errors or {},
        values=values or {},
    )


def _user(conn: Connection, admin: AdminSession, user_id: str) -> UserView:
    try:
        return queries.user_by_id(conn, admin.workspace_id, user_id)
    except errors.NotFound as missing:
        raise PageNotFound(missing.detail) from None


def _effect(counts: UserCounts, view: UserView, to: Status) -> int:
    """The active user count after moving this user to `to`, from the exact counter."""
    return counts.moved(view.user.role, view.user.status, to).active


def _lifts_block(view: UserView) -> bool:
    # PRODUCT §3: unblocking is deliberate; on the profile the admin confirms it with
    # their own password. This decides what the form asks for, not whether it is allowed.
    return view.user.status == Status.BLOCKED


@router.get("/users/{user_id}", response_class=HTMLResponse)
def profile(request: Request, user_id: str, admin: AdminDep, container: ContainerDep) -> Response:
    """The Status line, what it may change to (with the effect on the count), history."""
    return _profile(request, admin, container, user_id)


@router.post("/users/{user_id}/status")
def change(
    request: Request,
    user_id: str,
    admin: AdminDep,
    container: ContainerDep,
    request_id: RequestIdDep,
    to: Annotated[str, Form()] = "",
    reason_code: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
    review_by: Annotated[str, Form()] = "",
) -> Response:
    """Change the status through route admin_profile; refusals show next to the field,
    on the profile's GET page (Post/Redirect/Get: a refresh sends nothing again)."""
    values = {"to": to, "reason_code": reason_code, "note": note, "review_by": review_by}
    here = f"/admin/users/{user_id}"
    problems = _check_form(to, reason_code, version) | check_review_field(review_by)
    if problems:
        return redirect_refused(request, here, errors=problems, values=values)
    with reading(container) as conn:
        view = _user(conn, admin, user_id)
    target = Status(to)
    confirming = _lifts_block(view) and target != view.user.status
    if confirming and not password:
        return redirect_refused(
            request, here, values=values,
            errors={"password": "Enter your own password to confirm lifting the block."},
        )  # fmt: skip
    try:
        result = _change(
            container, admin, user_id, target, reason_code, note, int(version),
            password if confirming else None, request_id, review_by,
        )  # fmt: skip
    except TooManyAttempts as refusal:  # answered in place, with the time to wait
        page = _profile(
            request, admin, container, user_id, status_code=refusal.http_status,
            form_errors={"password": refusal.detail}, values=values,
        )  # fmt: skip
        page.headers["Retry-After"] = str(refusal.retry_after)
        return page
    except errors.DomainError as refusal:
        field = _field_of(refusal, target, reason_code)
        return redirect_refused(request, here, errors={field: refusal.detail}, values=values)
    return redirect(request, f"/admin/users/{user_id}", flash=_done(result, target))


def _check_form(to: str, reason_code: str, version: str) -> dict[str, str]:
    problems: dict[str, str] = {}
    if to not in Status._value2member_map_:
        problems["to"] = "Choose the status to change to."
    if reason_code and reason_code not in ReasonCode._value2member_map_:
        problems["reason_code"] = "Choose one of the listed reasons."
    if not (version.isascii() and version.isdigit() and len(version) <= 18):  # "²", 10^5000
        problems["form"] = "This form is out of date. Reload the page and try again."
    return problems


def _change(
    container: ContainerDep,
    admin: AdminSession,
    user_id: str,
    target: Status,
    reason_code: str,
    note: str,
    version: int,
    password: str | None,
    request_id: str,
    review_by: str = "",
) -> ChangeResult:
    return change_on_profile(
        container.uow(),
        workspace_id=admin.workspace_id,
        user_id=user_id,
        to=target,
        route=admin.principal.route,
        actor=admin.principal.actor,
        confirm_with=password,
        reason_code=ReasonCode(reason_code) if reason_code else None,
        note=note.strip() or None,
        now=container.clock(),
        expected_version=version,
        request_id=request_id,
        review_by=date.fromisoformat(review_by) if review_by else None,
    )


def _field_of(refusal: errors.DomainError, target: Status, reason_code: str) -> str:
    if isinstance(refusal, errors.ReasonRequired):
        return "reason_code" if target == Status.BLOCKED and not reason_code else "note"
    if isinstance(refusal, errors.InvalidInput) and "review date" in refusal.detail:
        return "review_by"
    return FIELD_OF_CODE.get(refusal.code, "to")


def _done(result: ChangeResult, target: Status) -> str:
    name = result.user.name
    if not result.changed:
        return f"{name} was already {target.value.capitalize()}: nothing changed."
    r = result.revoked
    ended = (
        f" Ended {r.sessions} session(s) and {r.tokens} token(s)." if r.sessions + r.tokens else ""
    )
    return f"{name} is now {target.value.capitalize()}.{ended}"
