"""change_status and apply_changes: the two doors through which statuses change.

Both lock the workspace's counter row first and the user rows second (the same
order everywhere, so two writers never deadlock), ask the domain, and write the
status, the audit entry, the revocations and the counter together. (Automations
read status changes from the audit log, so no outbox message is written for them.)
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from roster.domain import errors
from roster.domain.access import Revoked
from roster.domain.audit import APPLIED, AuditEntry
from roster.domain.ids import new_id
from roster.domain.users import Actor, Headcount, StatusChanged, User
from roster.domain.vocabulary import ReasonCode, Route, Status
from roster.domain.workspaces import UserCounts, Workspace
from roster.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class ChangeResult:
    user: User
    changed: bool
    revoked: Revoked


@dataclass(frozen=True, slots=True)
class Outcome:
    """One user's result in a batch: applied, unchanged, or refused with a code."""

    user_id: str
    result: Literal["applied", "unchanged", "refused"]
    code: str | None = None
    from_status: Status | None = None


def change_status(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    user_id: str,
    to: Status,
    route: Route,
    actor: Actor,
    reason_code: ReasonCode | None = None,
    note: str | None = None,
    now: datetime,
    request_id: str | None = None,
    expected_version: int | None = None,
) -> ChangeResult:
    """Change one user's status, or raise the refusal after auditing it.

    A refused attempt is committed as an audit entry before the error propagates,
    so the log records refusals too. Same → same returns unchanged, writing nothing.
    One user, few round trips: one statement locks the counter and the user (in
    that order) and reads the workspace and the end of the audit chain; what was
    decided is written by one `changes.record` (one statement on PostgreSQL).
    """
    with uow:
        locked = uow.counts.lock_for_change(workspace_id, user_id)
        if locked is None:
            raise errors.NotFound("No such workspace.")
        workspace, counts, chain, user = locked
        if user is None:
            raise errors.NotFound("No such user in this workspace.")
        try:
            if expected_version is not None and expected_version != user.version:
                raise errors.VersionConflict()
            event = user.change_status(
                to,
                route=route,
                actor=actor,
                reason_code=reason_code,
                note=note,
                now=now,
                policy=workspace.policy,
                headcount=_headcount(counts),
            )
        except errors.DomainError as refusal:
            refused = _refused(
                user, to, route, actor, reason_code, note, now, refusal, request_id=request_id
            )
            uow.changes.record(chain, refused, UserCounts())
            uow.commit()
            raise
        if event is None:
            return ChangeResult(user, changed=False, revoked=Revoked())
        user.events.pop()
        after = counts.moved(user.role, event.from_status, event.to_status)
        revoked = uow.changes.record(
            chain,
            _applied(workspace_id, event, request_id, None),
            after.minus(counts),
            changed=user,
            revoke=event.leaves_active,
        )
        uow.commit()
        return ChangeResult(user, changed=True, revoked=revoked)


def apply_changes(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    targets: Sequence[tuple[str, Status]],
    route: Route,
    actor: Actor,
    reason_code: ReasonCode | None = None,
    note: str | None = None,
    now: datetime,
    batch_id: str,
    notes: Callable[[str], tuple[ReasonCode | None, str | None]] | None = None,
) -> tuple[list[Outcome], Revoked]:
    """Apply many changes inside the caller's open unit of work, set-based.

    It does not commit: the caller commits each chunk once, so statuses, audit
    entries, revocations and the counter of a chunk land together or not at all.
    Unknown ids come back refused `not_found`; a repeated id counts once, last wins.
    `notes`, when given, supplies a per-user reason and note (imports) instead of
    the shared ones.
    """
    workspace = _workspace(uow, workspace_id)
    counts = uow.counts.lock(workspace_id)
    wanted = dict(targets)
    users = {u.id: u for u in uow.users.get_many_for_update(workspace_id, sorted(wanted))}
    outcomes: list[Outcome] = []
    refusals: list[AuditEntry] = []
    changed: list[User] = []
    running = counts
    for user_id, to in wanted.items():
        user = users.get(user_id)
        if user is None:
            outcomes.append(Outcome(user_id, "refused", errors.NotFound.code))
            continue
        reason, text = notes(user_id) if notes else (reason_code, note)
        before = user.status
        try:
            event = user.change_status(
                to,
                route=route,
                actor=actor,
                reason_code=reason,
                note=text,
                now=now,
                policy=workspace.policy,
                headcount=_headcount(running),
            )
        except errors.DomainError as refusal:
            refusals.append(
                _refused(user, to, route, actor, reason, text, now, refusal, batch_id=batch_id)
            )
            outcomes.append(Outcome(user_id, "refused", refusal.code, before))
            continue
        if event is None:
            outcomes.append(Outcome(user_id, "unchanged", None, before))
            continue
        running = running.moved(user.role, before, user.status)
        changed.append(user)
        outcomes.append(Outcome(user_id, "applied", None, before))
    uow.audit.add(refusals)
    revoked = _record(
        uow, workspace, changed, running.minus(counts), request_id=None, batch_id=batch_id
    )
    return outcomes, revoked


def _workspace(uow: UnitOfWork, workspace_id: str) -> Workspace:
    workspace = uow.workspaces.get(workspace_id)
    if workspace is None:
        raise errors.NotFound("No such workspace.")
    return workspace


def _headcount(counts: UserCounts) -> Headcount:
    return Headcount(active_users=counts.active, active_owners=counts.active_owners)


def _record(
    uow: UnitOfWork,
    workspace: Workspace,
    changed: Sequence[User],
    delta: UserCounts,
    *,
    request_id: str | None,
    batch_id: str | None,
) -> Revoked:
    """Write what the domain decided: statuses, audit, counter delta, revocations."""
    if not changed:
        return Revoked()
    events = [u.events.pop() for u in changed]
    uow.users.save_statuses(changed)
    uow.audit.add([_applied(workspace.id, e, request_id, batch_id) for e in events])
    uow.counts.add(workspace.id, delta)
    leaving = [e.user_id for e in events if e.leaves_active]
    return uow.access.revoke(workspace.id, leaving, events[0].at) if leaving else Revoked()


def _applied(
    workspace_id: str, e: StatusChanged, request_id: str | None, batch_id: str | None
) -> AuditEntry:
    return AuditEntry(
        workspace_id=workspace_id,
        user_id=e.user_id,
        from_status=e.from_status,
        to_status=e.to_status,
        route=e.route,
        actor_id=e.actor.id,
        actor_name=e.actor.name,
        reason_code=e.reason_code,
        note=e.note,
        at=e.at,
        outcome=APPLIED,
        request_id=request_id,
        batch_id=batch_id,
        id=new_id("evt"),
    )


def _refused(
    user: User,
    to: Status,
    route: Route,
    actor: Actor,
    reason_code: ReasonCode | None,
    note: str | None,
    now: datetime,
    refusal: errors.DomainError,
    *,
    request_id: str | None = None,
    batch_id: str | None = None,
) -> AuditEntry:
    return AuditEntry(
        workspace_id=user.workspace_id,
        user_id=user.id,
        from_status=user.status,
        to_status=to,
        route=route,
        actor_id=actor.id,
        actor_name=actor.name,
        reason_code=reason_code,
        note=note,
        at=now,
        outcome=refusal.code,
        request_id=request_id,
        batch_id=batch_id,
        id=new_id("evt"),
    )
