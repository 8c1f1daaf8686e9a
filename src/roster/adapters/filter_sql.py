"""The user and audit filters as SQL: the one place a filter becomes a WHERE clause,
for every list, page, export, bulk action and automation run."""

from typing import Any

from sqlalchemy import (
    ColumnElement,
    FunctionElement,
    and_,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy import column as named
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from roster.adapters.tables import audit_events, users
from roster.domain.audit import APPLIED
from roster.domain.filters import REFUSED, AuditFilter, UserFilter


def user_where(workspace_id: str, f: UserFilter) -> list[ColumnElement[bool]]:
    """The conditions on `users` that select the workspace's users `f` means."""
    c = users.c
    where: list[ColumnElement[bool]] = [c.workspace_id == workspace_id]
    if f.status is not None:
        where.append(c.status.in_([s.value for s in f.status]))
    if f.role is not None:
        where.append(c.role.in_([r.value for r in f.role]))
    if f.q and (text := f.q.strip()):
        # The search holds the workspace condition too: on SQLite, the index must lead.
        where[0] = TextSearch(workspace_id, text)
    if f.email_domain is not None:
        at = [c.email.endswith(f"@{d}", autoescape=True) for d in f.email_domain]
        where.append(or_(*at) if at else false())
    idle = func.coalesce(c.last_seen_at, c.created_at)
    for column, before, after in (
        (c.last_seen_at, f.last_seen_before, f.last_seen_after),
        (idle, f.idle_before, f.idle_after),
        (c.created_at, f.created_before, f.created_after),
        (c.expires_at, f.expires_before, f.expires_after),
    ):
        if before is not None:
            where.append(column < before)
        if after is not None:
            where.append(column >= after)
    if f.never_seen:
        where.append(c.last_seen_at.is_(None))
    return where


class TextSearch(FunctionElement[bool]):
    """The workspace's users with `text` in their email or name, any case, through the
    index migration 0017_user_search made. On PostgreSQL the trigram indexes serve
    the LIKE conditions themselves (text with an `@` is narrowed by its local part
    first, see `_local_part`). On SQLite the FTS5 trigram table first narrows
    them to its matches (text of 3 characters or more; shorter text has no trigram
    and is read in page order, as before), and the workspace condition is written
    `+workspace_id` so that the planner, which has no statistics on a live database,
    starts from those matches rather than from the workspace's primary key order.
    The LIKE conditions decide in both, so the results are those of a plain scan."""

    inherit_cache = False  # compiled per database, and per length on SQLite

    def __init__(self, workspace_id: str, text: str) -> None:
        c = users.c
        self.text = text
        self.workspace = c.workspace_id == workspace_id
        self.anywhere = _anywhere(text)
        super().__init__(self.workspace, self.anywhere)  # its FROM: users


def _anywhere(text: str) -> ColumnElement[bool]:
    """`text` in the email or the name, any case: the condition that decides."""
    c = users.c
    # Emails are stored lowercase (normalize_email); names keep their case.
    return or_(
        c.email.contains(text.lower(), autoescape=True),
        c.name.icontains(text, autoescape=True),
    )


def _local_part(text: str) -> str | None:
    """For text with an address's `@` and more after it, the part up to the `@`:
    what tells users apart, where a domain's trigrams are in most rows (None: no
    such part of 3 characters or more)."""
    local, at, rest = text.partition("@")
    return local + at if at and rest and len(local) + 1 >= _TRIGRAM else None


_SEARCH = table("users_search", named("rowid"), named("users_search"))
_TRIGRAM = 3  # the shortest text the trigram index finds


@compiles(TextSearch)
def _search_anywhere(element: TextSearch, compiler: SQLCompiler, **kw: Any) -> str:
    parts = [element.workspace, element.anywhere]
    if (local := _local_part(element.text)) is not None:
        # The trigram index reads every trigram's list of rows: the local part's
        # alone narrow to a few rows, which the whole text then decides.
        parts.insert(1, _anywhere(local))
    return f"({compiler.process(and_(*parts), **kw)})"


@compiles(TextSearch, "sqlite")
def _search_matches(element: TextSearch, compiler: SQLCompiler, **kw: Any) -> str:
    if len(element.text) < _TRIGRAM or "\x00" in element.text:  # FTS5 reads NUL as the end
        return f"({compiler.process(and_(element.workspace, element.anywhere), **kw)})"
    phrase = '"' + element.text.replace('"', '""') + '"'  # the text, not a query
    matches = select(_SEARCH.c.rowid).where(_SEARCH.c.users_search.match(phrase))
    candidates = literal_column(f"{users.name}.rowid").in_(matches)
    rest = and_(candidates, element.anywhere)
    return f"(+{compiler.process(element.workspace, **kw)} AND {compiler.process(rest, **kw)})"


def audit_where(workspace_id: str, f: AuditFilter) -> list[ColumnElement[bool]]:
    """The conditions on `audit_events` that select the workspace's events `f` means."""
    c = audit_events.c
    where: list[ColumnElement[bool]] = [c.workspace_id == workspace_id]
    if f.user_id is not None:
        where.append(c.user_id == f.user_id)
    if f.kind:
        where.append(c.kind.in_([k.value for k in f.kind]))
    if f.route:
        where.append(c.route.in_([r.value for r in f.route]))
    if f.outcome == REFUSED:
        where.append(c.outcome != APPLIED)
    elif f.outcome is not None:
        where.append(c.outcome == f.outcome)
    if f.actor_id is not None:
        where.append(c.actor_id == f.actor_id)
    if f.since is not None:
        where.append(c.at >= f.since)
    if f.until is not None:
        where.append(c.at < f.until)
    return where
