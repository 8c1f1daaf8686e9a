"""The users list in one worker-thread hop: the credential check, then, on the same
connection, the page the query string asks for.

FastAPI runs the caller's check (a dependency) before it validates the query
parameters, so that a bad token answers 401 before a bad parameter answers 422; a
view that read only after validation would need a second hop and a second
connection. For the everyday lists (plain `status`, `role`, `sort`, `cursor` and
`limit`) the check reads the page ahead from the raw query string; the view uses it
only if its validated parameters ask for exactly that page, and reads again otherwise.

`list_lane` goes one step further for those everyday lists: a query string that
`asked_in` reads is one FastAPI's validation accepts and reads the same way (every
value is one of a closed set, or digits in range, or a cursor of our own alphabet
that decodes), so validating it again, solving the view's dependencies and routing
the request change nothing; the lane (fast_lanes.py) answers from the read-ahead
page at once. Anything else goes the general way.
tests/e2e/api/test_users_list_fast.py compares the two ways' answers for many query
strings, byte for byte.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import Connection, Row
from starlette.datastructures import QueryParams
from starlette.types import Receive, Scope

from roster.bootstrap import Container
from roster.domain import errors
from roster.domain.credentials import CredentialKind, Principal
from roster.domain.vocabulary import Role, Status
from roster.entrypoints.web.api.schemas import user_list_json
from roster.entrypoints.web.deps import ContainerDep, bearer, bearer_only
from roster.entrypoints.web.worker_hop import run_short_read
from roster.services import queries
from roster.services.access import authenticate_noting_stamps

SORTS = frozenset([*queries.USER_SORT_KEYS, *(f"-{k}" for k in queries.USER_SORT_KEYS)])
READ_AHEAD = frozenset({"status", "role", "sort", "cursor", "limit"})
CURSOR_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def may_read_users(principal: Principal) -> Principal:
    """Admins, and integrations' service tokens."""
    if principal.is_admin or principal.kind == CredentialKind.SERVICE:
        return principal
    raise errors.Forbidden("Only owners, admins and service tokens may read or change users.")


@dataclass(frozen=True, slots=True)
class PageAsked:
    where: queries.UserFilter
    sort: str
    after: queries.Keyset | None
    limit: int


@dataclass(frozen=True, slots=True)
class Listing:
    """The checked caller, and the page read ahead for `asked` (None: nothing read)."""

    principal: Principal
    asked: PageAsked | None
    rows: Sequence[Row[Any]]
    following: queries.Keyset | None


def read_page(
    conn: Connection, workspace_id: str, asked: PageAsked
) -> tuple[Sequence[Row[Any]], queries.Keyset | None]:
    return queries.page_user_rows(
        conn, workspace_id, where=asked.where, sort=asked.sort, after=asked.after, limit=asked.limit
    )


def asked_in(params: QueryParams) -> PageAsked | None:
    """The page a query string of plain values asks for, without FastAPI's validation;
    None when it holds anything else or anything doubtful."""
    if not READ_AHEAD.issuperset(params.keys()):
        return None
    sort = params.get("sort", "id")
    limit, cursor = params.get("limit", "50"), params.get("cursor")
    if sort not in SORTS or not (limit.isascii() and limit.isdigit() and len(limit) <= 3):
        return None
    if not 1 <= int(limit) <= 200 or (cursor is not None and not _ours(cursor)):
        return None
    try:
        where = queries.UserFilter(
            status=tuple(Status(s) for s in params.getlist("status")),
            role=tuple(Role(r) for r in params.getlist("role")),
        )
        after = queries.decode_cursor(cursor, sort) if cursor else None
    except (ValueError, errors.InvalidInput):
        return None
    return PageAsked(where, sort, after, int(limit))


def _ours(cursor: str) -> bool:
    """Shaped like the cursors encode_cursor gives (base64url without padding)."""
    return 0 < len(cursor) <= 1000 and CURSOR_ALPHABET.issuperset(cursor)


def read_listing(
    container: Container, token: str | None, ahead: PageAsked | None, *, may_write: bool = True
) -> Listing:
    """The caller (bearer, checked now in one query, admins and service tokens only)
    and, on the same connection, the page read ahead if any. Blocking: run it in
    a worker thread, or through `run_short_read` (`may_write`: see there)."""
    with container.engine.connect() as conn:
        now = container.clock()
        caller, stamped = authenticate_noting_stamps(conn, token, now, may_write=may_write)
        principal = may_read_users(bearer_only(caller))
        if ahead is None:
            return Listing(principal, None, (), None)
        if stamped and conn.dialect.name == "sqlite":
            # SQLite's read snapshot starts at the first read: end it, so the page
            # shows the last-seen stamp authenticate has just written.
            conn.rollback()
        rows, following = read_page(conn, principal.workspace_id, ahead)
    return Listing(principal, ahead, rows, following)


async def listing(
    request: Request,
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Listing:
    """The list's dependency: `read_listing`, through `run_short_read`."""
    token = credentials.credentials if credentials else None
    ahead = asked_in(request.query_params)
    return await run_short_read(container.engine, read_listing, container, token, ahead)


def page_response(
    rows: Sequence[Row[Any]], following: queries.Keyset | None, sort: str, caller: Principal
) -> Response:
    """UserList's document (response_model keeps it in the OpenAPI), serialised once
    from the rows."""
    next_cursor = queries.encode_cursor(sort, following) if following else None
    body = user_list_json(rows, next_cursor, caller.route, caller.policy)
    return Response(body, media_type="application/json")


def answer_listing(
    container: Container, token: str | None, ahead: PageAsked, *, may_write: bool = True
) -> Response:
    """`read_listing`, and the page's JSON written in the same thread, where the rows
    were just built: written on another thread (often the other core), the same
    JSON cost 25-80 µs more CPU a request (alternated runs)."""
    checked = read_listing(container, token, ahead, may_write=may_write)
    return page_response(checked.rows, checked.following, ahead.sort, checked.principal)


async def list_lane(scope: Scope, receive: Receive) -> Response | None:
    """GET /users in fast_lanes.FastLanes: an everyday query string (one `asked_in`
    reads) with a bearer token (or none) is answered from the credential check's hop,
    without FastAPI's parameter work; anything else, refusals included, goes back to
    the whole app."""
    token = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            token = value.decode("latin-1")
            if not token.startswith("Bearer ") or " " in token[7:] or len(token) == 7:
                return None  # another scheme, or a doubtful one: HTTPBearer decides
            token = token[7:]
            break
    ahead = asked_in(QueryParams(scope["query_string"]))
    if ahead is None:
        return None
    container: Container = scope["app"].state.container
    return await run_short_read(container.engine, answer_listing, container, token, ahead)
