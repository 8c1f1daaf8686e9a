"""Creating users and changing their role."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from types import EllipsisType
from typing import Any

from roster.adapters.passwords import hash_password
from roster.domain import errors
from roster.domain.audit import APPLIED, AuditEntry, AuditKind, admin_action
from roster.domain.emails import address_key, normalize_email
from roster.domain.ids import new_id
from roster.domain.users import (
    Actor,
    Headcount,
    User,
    check_address_free,
    check_identity_change,
    check_new_user,
    check_owners_only,
)
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.domain.webhooks import status_event, updated_event
from roster.domain.workspaces import UserCounts
from roster.services.expiry import change_expiry
from roster.services.ports import UnitOfWork
from roster.services.status import audit_refusal
from roster.services.webhooks import billing_event, publish


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
    expires_at: datetime | None = None


def create_user(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    new: NewUser,
    route: Route,
    actor: Actor,
    now: datetime,
    request_id: str | None = None,
    password: str | None = None,
) -> User:
    """Create one user, who signs in with `password` if one is given; their creation
    is the first entry of their audit history."""
    new = with_password(new, password)
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


def with_password(new: NewUser, password: str | None) -> NewUser:
    """`new` with `password` hashed in; hashing is slow, so callers do it before
    their transaction opens."""
    return replace(new, password_hash=hash_password(password)) if password else new


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
    reported to it by index and skipped. An email already taken is `validation_error`;
    an address a Blocked user holds, in any spelling, is `user_blocked` on every
    route, audited on that user's history.
    """
    workspace = uow.workspaces.get(workspace_id)
    if workspace is None:
        raise errors.NotFound("No such workspace.")
    counts = uow.counts.lock(workspace_id)
    # One read finds both the Blocked holders of any spelling and the taken
    # addresses: for an address normalize_email accepts, its key is that address.
    keys = [address_key(n.email) for n in new]
    found = uow.users.get_many_by_email(workspace_id, keys)
    held = _held_by_blocked(uow, found, keys, route=route, actor=actor, now=now, refused=refused)
    new = [n for i, n in enumerate(new) if i not in held]
    emails = [normalize_email(n.email) for n in new]
    taken = [e for e in emails if e in found]
    if taken or len(set(emails)) != len(emails):
        clash = next(iter(taken), None) or next(e for e in emails if emails.count(e) > 1)
        raise errors.InvalidInput(f"A user with the email {clash} already exists.")
    if held and refused is not None:  # report the rest by their index in what was asked
        kept_index = [i for i in range(len(keys)) if i not in held]
        refused = _reindexed(refused, kept_index)
    after, users, hashes = counts, [], {}
    kept: list[tuple[User, NewUser]] = []
    for index, (n, email) in enumerate(zip(new, emails, strict=True)):
        try:
            check_owners_only(actor, n.role)
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
            review_by=workspace.review_date(n.reason_code, now)
            if n.status == Status.BLOCKED
            else None,
            expires_at=n.expires_at,
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
    billing = [billing_event(after.active)] if after.active != counts.active else []
    publish(uow, workspace_id, [*map(status_event, made), *billing], now)
    return users


def _held_by_blocked(
    uow: UnitOfWork,
    found: dict[str, User],
    keys: Sequence[str],
    *,
    route: Route,
    actor: Actor,
    now: datetime,
    refused: Callable[[int, errors.DomainError], None] | None,
) -> set[int]:
    """The indexes of new users whose address a Blocked user holds, each refusal
    audited on that user's history. Without `refused` the first is committed and
    raised (as a refused status change is); with it each is reported and skipped."""
    held: set[int] = set()
    for index, key in enumerate(keys):
        try:
            check_address_free(found.get(key), key[:320])
        except errors.AddressHeld as refusal:
            holder = found[key]
            note = "Another account was asked for this user's address."
            audit_refusal(
                uow, holder, route=route, actor=actor, refusal=refusal, note=note, now=now
            )
            if refused is None:
                uow.commit()
                raise
            refused(index, refusal)
            held.add(index)
    return held


def _reindexed(
    refused: Callable[[int, errors.DomainError], None], kept_index: Sequence[int]
) -> Callable[[int, errors.DomainError], None]:
    return lambda i, refusal: refused(kept_index[i], refusal)


def refuse_identity_change(
    uow: UnitOfWork,
    user: User,
    changed: Sequence[str],
    *,
    route: Route,
    actor: Actor,
    now: datetime,
) -> None:
    """`check_identity_change` inside the caller's open unit of work, `user` locked:
    a refusal is audited and committed before it propagates, as a refused status
    change is, so the user's history shows who tried to change what."""
    try:
        check_identity_change(user, changed, route=route)
    except errors.IdentityFrozen as refusal:
        note = f"Asked to change the user's {', '.join(refusal.fields)}."
        audit_refusal(uow, user, route=route, actor=actor, refusal=refusal, note=note, now=now)
        uow.commit()
        raise


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


def update_user(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    user_id: str,
    name: str | None = None,
    role: Role | None = None,
    expires_at: datetime | EllipsisType | None = ...,
    expected_version: int | None = None,
    route: Route,
    actor: Actor,
    now: datetime,
    request_id: str | None = None,
) -> User:
    """Change a user's name, role and/or expiry (None: never) in one transaction
    (the API's PATCH).

    `expected_version` (from If-Match) refuses a stale edit with `version_conflict`;
    the role follows the domain's rules (only an owner makes or unmakes owners, the last
    active owner stays an owner, a Blocked user's role is frozen but on the profile
    and the CLI, refusals audited).
    """
    with uow:
        counts = uow.counts.lock(workspace_id)
        user = uow.users.get_for_update(workspace_id, user_id)
        if user is None:
            raise errors.NotFound("No such user in this workspace.")
        if expected_version is not None and expected_version != user.version:
            raise errors.VersionConflict()
        before, named = user.role, user.name
        if role is not None:
            changed = ("role",) if role != before else ()
            refuse_identity_change(uow, user, changed, route=route, actor=actor, now=now)
            user.change_role(
                role,
                actor=actor,
                route=route,
                headcount=Headcount(counts.active, counts.active_owners),
            )
        if name is not None:
            user.rename(name)
        uow.users.save_profile(user)
        change_expiry(
            uow, user, expires_at, route=route, actor=actor, now=now, request_id=request_id
        )
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
        _publish_update(uow, user, before, named, route=route, actor=actor, now=now,
                        request_id=request_id)  # fmt: skip
        uow.commit()
        return user


def _publish_update(
    uow: UnitOfWork, user: User, role: Role, name: str, *, route: Route, actor: Actor,
    now: datetime, request_id: str | None,
) -> None:  # fmt: skip
    """The `user.updated` webhook event of a profile edit, when a field changed."""
    changes: dict[str, list[Any]] = {}
    if user.role != role:
        changes["role"] = [role.value, user.role.value]
    if user.name != name:
        changes["name"] = [name, user.name]
    if changes:
        who = {"id": actor.id, "name": actor.name}
        event = updated_event(user.id, changes, route=route.value, actor=who, request_id=request_id)
        publish(uow, user.workspace_id, [event], now)


def _role_delta(before: Role, after: Role, status: Status) -> UserCounts:
    return UserCounts().moved(after, None, status).minus(UserCounts().moved(before, None, status))
