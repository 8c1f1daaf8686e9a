"""Users in the REST API.

Who may do what: owners and admins (sessions and personal tokens, route admin_api)
may do everything here. An integration's service token (route automation) may list
and read users and change a status. Members and SCIM tokens get 403: members
manage nothing, and identity providers speak SCIM at /scim/v2.
"""

from datetime import datetime
from types import EllipsisType
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from roster.domain import errors
from roster.domain.credentials import CredentialKind, Principal
from roster.domain.filters import UserFilter, instant
from roster.domain.vocabulary import Role, Status
from roster.entrypoints.web.api.pages import Cursor, Page, page_size
from roster.entrypoints.web.api.schemas import (
    Revocations,
    StatusChangeBody,
    StatusChangeOut,
    Text,
    UserCreateBody,
    UserOut,
    UserPatchBody,
    parse_etag,
)
from roster.entrypoints.web.deps import AdminDep, ContainerDep, PrincipalDep, RequestIdDep
from roster.entrypoints.web.problems import responses
from roster.services import queries
from roster.services.cursors import user_cursor, user_keyset
from roster.services.status import change_status
from roster.services.users import NewUser, create_user, update_user

router = APIRouter(prefix="/users", tags=["users"])

IfMatch = Annotated[
    str | None,
    Header(description="The user's ETag: a write against a stale one answers 412."),
]
UserId = Annotated[Text, Path(max_length=100, description="An opaque user id.")]
SORTS = [*queries.USER_SORT_KEYS, *(f"-{k}" for k in queries.USER_SORT_KEYS)]
BEFORE = "Last seen before this instant (a date: midnight UTC); never-seen users do not match."
AFTER = "Last seen at or after this instant (a date: midnight UTC)."


async def _reader(principal: PrincipalDep) -> Principal:
    """Admins, and integrations' service tokens."""
    if principal.is_admin or principal.kind == CredentialKind.SERVICE:
        return principal
    raise errors.Forbidden("Only owners, admins and service tokens may read or change users.")


ReaderDep = Annotated[Principal, Depends(_reader)]


async def json_body(request: Request) -> None:
    """A body that is not JSON is refused before it is parsed, saying what to send."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json" and not kind.endswith("+json"):
        raise errors.InvalidInput("The request body must be JSON (Content-Type: application/json).")


JsonBody = Annotated[None, Depends(json_body)]


def _user_out(container: ContainerDep, principal: Principal, user_id: str) -> UserOut:
    with container.engine.connect() as conn:
        view = queries.user_by_id(conn, principal.workspace_id, user_id)
        counts = queries.user_counts_of(conn, principal.workspace_id)
    return UserOut.seen_by(view, principal, counts)


def _tagged(response: Response, out: UserOut) -> UserOut:
    response.headers["ETag"] = out.etag
    return out


@router.get("", response_model=Page[UserOut], responses=responses(401, 403, 422))
def list_users(
    principal: ReaderDep,
    container: ContainerDep,
    status: Annotated[list[Status] | None, Query(description="Any of these statuses.")] = None,
    role: Annotated[list[Role] | None, Query(description="Any of these roles.")] = None,
    q: Annotated[Text | None, Query(max_length=200, description="Text in email or name.")] = None,
    last_seen_before: Annotated[datetime | None, Query(description=BEFORE)] = None,
    last_seen_after: Annotated[datetime | None, Query(description=AFTER)] = None,
    sort: Annotated[
        str, Query(description=f"One of {', '.join(SORTS)}; ties break on id.", max_length=20)
    ] = "id",
    cursor: Cursor = None,
    limit: Annotated[int, page_size(200)] = 50,
) -> Page[UserOut]:
    """Users of the workspace, a page at a time (keyset pagination: pass `next_cursor`
    back as `cursor`). Never-seen users match neither last-seen bound and sort as
    the oldest sighting."""
    where = UserFilter(
        status=tuple(status) if status else None,
        role=tuple(role) if role else None,
        q=q,
        last_seen_before=instant(last_seen_before) if last_seen_before else None,
        last_seen_after=instant(last_seen_after) if last_seen_after else None,
    )
    after = user_keyset(cursor, sort) if cursor else None
    with container.engine.connect() as conn:
        page = queries.page_users(
            conn, principal.workspace_id, where=where, sort=sort, after=after, limit=limit
        )
        counts = queries.user_counts_of(conn, principal.workspace_id)
    return Page[UserOut](
        items=[UserOut.seen_by(view, principal, counts) for view in page.users],
        next_cursor=user_cursor(sort, page.next) if page.next else None,
    )


@router.post(
    "",
    status_code=201,
    response_model=UserOut,
    responses=responses(401, 403, 409, 413, 422),
)
def create(
    admin: AdminDep,
    _json: JsonBody,
    body: UserCreateBody,
    container: ContainerDep,
    request: Request,
    response: Response,
    request_id: RequestIdDep,
) -> UserOut:
    """Create a user (route admin_api). Creating Blocked needs a reason code; creating
    Active counts against the seat limit. An email already taken is a validation_error;
    a Blocked user's address, in any spelling, is 409 user_blocked (audited)."""
    user = create_user(
        container.uow(),
        workspace_id=admin.workspace_id,
        new=NewUser(
            email=body.email,
            name=body.name,
            role=body.role,
            status=body.status,
            reason_code=body.reason_code,
            note=body.note,
            expires_at=instant(body.expires_at) if body.expires_at else None,
        ),
        password=body.password,
        route=admin.route,
        actor=admin.actor,
        now=container.clock(),
        request_id=request_id,
    )
    response.headers["Location"] = f"{request.url.path.rstrip('/')}/{user.id}"
    return _tagged(response, _user_out(container, admin, user.id))


@router.get("/{user_id}", response_model=UserOut, responses=responses(401, 403, 404, 422))
def read(
    user_id: UserId, principal: ReaderDep, container: ContainerDep, response: Response
) -> UserOut:
    """One user, with an ETag to send back in If-Match."""
    return _tagged(response, _user_out(container, principal, user_id))


@router.patch(
    "/{user_id}",
    response_model=UserOut,
    responses=responses(401, 403, 404, 409, 412, 413, 422),
)
def patch(
    user_id: UserId,
    admin: AdminDep,
    _json: JsonBody,
    body: UserPatchBody,
    container: ContainerDep,
    response: Response,
    request_id: RequestIdDep,
    if_match: IfMatch = None,
) -> UserOut:
    """Change a user's name, role and/or `expires_at` (null: never; when it passes
    the user becomes Inactive, reason expired), not their status (see PUT
    …/status). Only an
    owner makes or unmakes owners (403 forbidden); the last active owner cannot stop
    being an owner (409 last_owner); a Blocked user's role cannot change here (409
    user_blocked, audited)."""
    update_user(
        container.uow(),
        workspace_id=admin.workspace_id,
        user_id=user_id,
        name=body.name,
        role=body.role,
        expires_at=_expiry(body),
        expected_version=parse_etag(if_match),
        route=admin.route,
        actor=admin.actor,
        now=container.clock(),
        request_id=request_id,
    )
    return _tagged(response, _user_out(container, admin, user_id))


def _expiry(body: UserPatchBody) -> datetime | EllipsisType | None:
    if "expires_at" not in body.model_fields_set:
        return ...
    return instant(body.expires_at) if body.expires_at else None


@router.put(
    "/{user_id}/status",
    response_model=StatusChangeOut,
    responses=responses(401, 403, 404, 409, 412, 413, 422),
)
def put_status(
    user_id: UserId,
    principal: ReaderDep,
    _json: JsonBody,
    body: StatusChangeBody,
    container: ContainerDep,
    response: Response,
    request_id: RequestIdDep,
    if_match: IfMatch = None,
) -> StatusChangeOut:
    """Change one user's status through the caller's route (a personal token:
    admin_api; a service token: automation). Refusals are audited. A block may
    give its `review_by` date (today or later)."""
    result = change_status(
        container.uow(),
        workspace_id=principal.workspace_id,
        user_id=user_id,
        to=body.status,
        route=principal.route,
        actor=principal.actor,
        reason_code=body.reason_code,
        note=body.note,
        now=container.clock(),
        request_id=request_id,
        expected_version=parse_etag(if_match),
        review_by=body.review_by,
    )
    out = _tagged(response, _user_out(container, principal, result.user.id))
    r = result.revoked
    return StatusChangeOut(
        user=out,
        changed=result.changed,
        revoked=Revocations(
            sessions=r.sessions,
            tokens=r.tokens,
            invitations=r.invitations,
            automations=r.automations,
        ),
    )
