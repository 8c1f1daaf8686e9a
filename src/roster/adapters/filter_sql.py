"""The user and audit filters as SQL: the one place a filter becomes a WHERE clause,
for every list, page, export, bulk action and automation run."""

from sqlalchemy import ColumnElement, false, func, or_

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
        # Emails are stored lowercase (normalize_email); names keep their case.
        where.append(
            or_(
                c.email.contains(text.lower(), autoescape=True),
                c.name.icontains(text, autoescape=True),
            )
        )
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
