"""Creating users and changing their role."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from roster.domain import errors
from roster.domain.audit import APPLIED, AuditEntry, AuditKind, admin_action
from roster.domain.emails import normalize_email
from roster.domain.ids import new_id
from roster.domain.users import Actor, Headcount, User, check_new_user
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.domain.workspaces import UserCounts
from roster.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class NewUser:
    email: str
    name: str
    role: Role = Role.MEMBER
    status: Status = Status.ACTIVE
    reason_code: ReasonCode | None = None
    note: str | None = None
    password_hash: str | None = None
    last_seen_at: datetime | None = None


def create_user(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    new: NewUser,
    route: Route,
    actor: Actor,
    now: datetime,
    request_id: str | None = None,
) -> User:
    """Create one user; their creation is the first entry of their audit history."""
    with uow:
        users = add_users(
            uow,
            workspace_id=workspace_id,
            new=[new],
            route=route,
            actor=actor,
            now=now,
            batch_id=None,
            request_id=request_id,
        )
        uow.commit()
        return users[0]


def add_users(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    new: Sequence[NewUser],
    route: Route,
    actor: Actor,
    now: datetime,
    batch_id: str | None,
    refused: Callable[[int, errors.DomainError], None] | None = None,
    request_id: str | None = None,
) -> list[User]:
    """Insert users inside the caller's unit of work (no commit), checking the seat
    limit and reasons as a change into each status would, and auditing each creation.

    Raises the first refusal, unless `refused` is given: then a refused row is
    reported to it by index and skipped. An email already taken is `validation_error`.
    """
    workspace = uow.workspaces.get(workspace_id)
    if workspace is None:
        raise errors.NotFound("No such workspace.")
    counts = uow.counts.lock(workspace_id)
    emails = [normalize_email(n.email) for n in new]
    taken = uow.users.get_many_by_email(workspace_id, emails)
    if taken or len(set(emails)) != len(emails):
        clash = next(iter(taken), None) or next(e for e in emails if emails.count(e) > 1)
        raise errors.InvalidInput(f"A user with the email {clash} already exists.")
    after, users, hashes = counts, [], {}
    kept: list[tuple[User, NewUser]] = []
    for index, (n, email) in enumerate(zip(new, emails, strict=True)):
        try:
            check_new_user(
                n.status,
                reason_code=n.reason_code,
                policy=workspace.policy,
                headcount=Headcount(after.active, after.active_owners),
            )
        except errors.DomainError as refusal:
            if refused is None:
                raise
            refused(index, refusal)
            continue
        user = User(
            id=new_id("usr"),
            workspace_id=workspace_id,
            email=email,
            name=n.name.strip(),
            role=n.role,
            status=n.status,
            status_reason=n.reason_code,
            status_note=n.note,
            status_changed_at=now,
            status_changed_by=actor.name,
        )
        if n.password_hash:
            hashes[user.id] = n.password_hash
        after = after.moved(n.role, None, n.status)
        users.append(user)
        kept.append((user, n))
    last_seen = {u.id: n.last_seen_at for u, n in kept if n.last_seen_at}
    uow.users.add_many(users, now, hashes, last_seen)
    made = [_created(u, route, actor, now, batch_id, request_id) for u in users]
    uow.audit.append(made)
    uow.counts.add(workspace_id, after.minus(counts))
    return users


def _created(
    user: User,
    route: Route,
    actor: Actor,
    now: datetime,
    batch_id: str | None,
    request_id: str | None,
) -> AuditEntry:
    return AuditEntry(
        workspace_id=user.workspace_id,
        user_id=user.id,
        from_status=None,
        to_status=user.status,
        route=route,
        actor_id=actor.id,
        actor_name=actor.name,
        reason_code=user.status_reason,
        note=user.status_note,
        at=now,
        outcome=APPLIED,
        batch_id=batch_id,
        request_id=request_id,
        id=new_id("evt"),
    )


def set_role(uow: UnitOfWork, *, workspace_id: str, user_id: str, role: Role) -> User:
    """Change a user's role; the last active owner cannot stop being an owner."""
    with uow:
        counts = uow.counts.lock(workspace_id)
        user = uow.users.get_for_update(workspace_id, user_id)
        if user is None:
            raise errors.NotFound("No such user in this workspace.")
        before = user.role
        user.change_role(role, headcount=Headcount(counts.active, counts.active_owners))
        uow.users.save_role(user)
        delta = (
            UserCounts()
            .moved(role, None, user.status)
            .minus(UserCounts().moved(before, None, user.status))
        )
        uow.counts.add(workspace_id, delta)
        uow.commit()
        return user


def update_user(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    user_id: str,
    name: str | None = None,
    role: Role | None = None,
    expected_version: int | None = None,
    route: Route,
    actor: Actor,
    now: datetime,
    request_id: str | None = None,
) -> User:
    """Change a user's name and/or role in one transaction (the API's PATCH).

    `expected_version` (from If-Match) refuses a stale edit with `version_conflict`;
    the role follows `set_role`'s rule that the last active owner stays an owner.
    """
    with uow:
        counts = uow.counts.lock(workspace_id)
        user = uow.users.get_for_update(workspace_id, user_id)
        if user is None:
            raise errors.NotFound("No such user in this workspace.")
        if expected_version is not None and expected_version != user.version:
            raise errors.VersionConflict()
        before = user.role
        if role is not None:
            user.change_role(role, headcount=Headcount(counts.active, counts.active_owners))
        if name is not None:
            user.rename(name)
        uow.users.save_profile(user)
        if user.role != before:
            uow.counts.add(workspace_id, _role_delta(before, user.role, user.status))
            changes = {"role": [before.value, user.role.value]}
            entry = admin_action(
                AuditKind.ROLE_CHANGED,
                changes,
                workspace_id=workspace_id,
                route=route,
                actor=actor,
                at=now,
                entry_id=new_id("evt"),
                request_id=request_id,
                user_id=user.id,
            )
            uow.audit.append([entry])
        uow.commit()
        return user


def _role_delta(before: Role, after: Role, status: Status) -> UserCounts:
    return UserCounts().moved(after, None, status).minus(UserCounts().moved(before, None, status))
