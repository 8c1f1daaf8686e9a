"""SCIM 2.0 use cases: what an identity provider may read and write.

The web layer parses SCIM and hands over plain values; this module decides what
they mean for a Roster user. `active` is a reading of the status (only Active reads
true). Writing it goes through the one door (`change_in_transaction`) with route
`scim`, so the transition table decides: an identity provider may deactivate and
reactivate, never lift a block.

The writes (users and groups) take the UnitOfWork port. The reads
(`user_with_groups`, `find_users`, `page_users`, `find_groups`, `get_group`,
`groups_of_users`) are read-side queries on a connection: they write nothing, and a
unit of work's transaction would take SQLite's database-wide write lock for them.
"""

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from roster.adapters import scim_store
from roster.domain import errors
from roster.domain.emails import LookAlike, address_key, normalize_email
from roster.domain.ids import new_id
from roster.domain.scim import ScimGroup, ScimUser
from roster.domain.users import Actor, User, check_address_free
from roster.domain.vocabulary import Route, Status
from roster.domain.webhooks import updated_event
from roster.services.ports import ScimDirectory, UnitOfWork
from roster.services.status import audit_refusal, change_in_transaction
from roster.services.users import NewUser, add_users, refuse_identity_change
from roster.services.webhooks import publish

# Attributes never stored as sent: derived, read-only, or secrets we do not keep.
_NOT_STORED = frozenset(
    {
        "schemas",
        "id",
        "meta",
        "userName",
        "externalId",
        "displayName",
        "active",
        "password",
        "groups",
        "members",
    }
)


class Uniqueness(errors.DomainError):
    """Another resource already holds this userName or email."""

    code = "uniqueness"
    http_status = 409
    title = "Already taken"


def _target(active: bool) -> Status:
    """The status a provider's `active` asks for. false asks for Inactive, which the
    table lets scim reach only from Active: a Blocked user reads false already, so
    asking false of them changes nothing (see `_status_wanted`)."""
    return Status.ACTIVE if active else Status.INACTIVE


@dataclass(frozen=True, slots=True)
class UserWrite:
    """A User resource as the provider states it. `active` None leaves the status."""

    user_name: str
    external_id: str | None
    display_name: str | None
    active: bool | None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Narrowing:
    """A superset of the users a filter can match, for the database to fetch.
    Lists are OR-ed; the caller still evaluates the filter on what comes back."""

    ids: Sequence[str] | None = None
    emails: Sequence[str] | None = None
    user_name_keys: Sequence[str] | None = None
    external_ids: Sequence[str] | None = None
    display_names: Sequence[str] | None = None


@contextmanager
def _reading(db: Engine | Connection) -> Iterator[Connection]:
    """`db` itself when it is a connection (the caller's, e.g. the one it just
    authenticated on: one checkout per request), else a connection of its own."""
    if isinstance(db, Connection):
        yield db
        return
    with db.connect() as conn:
        yield conn


def _user(scim: ScimDirectory, workspace_id: str, user_id: str) -> ScimUser:
    """The user as the unit of work reads them; deprovisioned ones are not found."""
    found = scim.get_user(workspace_id, user_id)
    if found is None:
        raise errors.NotFound(f"No user {user_id} in this workspace.")
    return found


def user_with_groups(
    db: Engine | Connection, workspace_id: str, user_id: str
) -> tuple[ScimUser, list[tuple[str, str]]]:
    """A user and their groups (id, display name), read on one connection."""
    with _reading(db) as conn:
        rows, groups = scim_store.user_rows_with_groups(conn, workspace_id, ids=[user_id])
    if not rows:
        raise errors.NotFound(f"No user {user_id} in this workspace.")
    return scim_store.scim_user(rows[0]), groups[user_id]


def find_users(
    db: Engine | Connection, workspace_id: str, narrowing: Narrowing | None
) -> tuple[list[ScimUser], dict[str, list[tuple[str, str]]] | None]:
    """The users a filter may match (every user when it cannot be narrowed), and,
    when an indexed user column narrowed them (a few candidates), their groups read
    on the same connection (else None: the caller reads the groups of the page it
    keeps)."""
    n = narrowing or Narrowing()
    lists = {"ids": n.ids, "emails": n.emails, "user_name_keys": n.user_name_keys}
    lists["external_ids"] = n.external_ids
    with _reading(db) as conn:
        if not _narrows_users(n):
            return [scim_store.scim_user(r) for r in scim_store.user_rows(conn, workspace_id)], None
        rows, groups = scim_store.user_rows_with_groups(conn, workspace_id, **lists)
    return [scim_store.scim_user(r) for r in rows], groups


def _narrows_users(n: Narrowing) -> bool:
    return any(v is not None for v in (n.ids, n.emails, n.user_name_keys, n.external_ids))


def page_users(
    db: Engine | Connection, workspace_id: str, *, offset: int, limit: int
) -> tuple[int, list[ScimUser]]:
    """One page of every user, in id order, and the total: no filter, no sort."""
    with _reading(db) as conn:
        total = scim_store.count_users(conn, workspace_id)
        rows = scim_store.user_rows(conn, workspace_id, offset=offset, limit=limit)
    return total, [scim_store.scim_user(r) for r in rows]


def _account_email(write: UserWrite) -> str:
    """The email Roster keys the account on: userName when it is an email, else the
    primary (or work, or first) address of `emails`."""
    try:
        return normalize_email(write.user_name)
    except LookAlike:
        raise  # an address that could pass for another is refused, not re-keyed
    except errors.InvalidInput:
        pass
    emails = [e for e in write.attributes.get("emails") or [] if isinstance(e, dict)]
    ranked = sorted(emails, key=lambda e: (not e.get("primary"), e.get("type") != "work"))
    for entry in ranked:
        if isinstance(entry.get("value"), str):
            return normalize_email(entry["value"])
    # No address at all: Roster keys accounts on an email, so the account gets a
    # reserved, undeliverable one (RFC 2606 .invalid) derived from the userName.
    digest = hashlib.sha256(address_key(write.user_name).encode()).hexdigest()[:24]
    return f"scim-{digest}@no-email.invalid"


def _display_name(write: UserWrite, email: str) -> str:
    name = write.attributes.get("name") or {}
    joined = " ".join(str(name[k]) for k in ("givenName", "familyName") if name.get(k))
    chosen = (
        write.display_name or name.get("formatted") or joined or email.split("@", maxsplit=1)[0]
    )
    return str(chosen).strip()[:200] or email


def _stored(write: UserWrite) -> dict[str, Any]:
    try:
        user_name = normalize_email(write.user_name)
    except errors.InvalidInput:
        user_name = write.user_name.strip()
    if not user_name:
        raise errors.InvalidInput("userName is required.")
    return {
        "user_name": user_name[:320],
        "user_name_key": address_key(user_name)[:320],
        "external_id": _external_id(write.external_id),
        "display_name": write.display_name[:MAX_TEXT] if write.display_name else None,
        "attributes": {k: v for k, v in write.attributes.items() if k not in _NOT_STORED},
    }


MAX_TEXT = 255  # the columns' width: displayName is cut to it, externalId refused past it


def _external_id(value: str | None) -> str | None:
    """The provider's own key: refused past the column's width, never cut (two cut
    keys could collide)."""
    if value is not None and len(value) > MAX_TEXT:
        raise errors.InvalidInput(f"externalId is longer than {MAX_TEXT} characters.")
    return value


def _holders(scim: ScimDirectory, workspace_id: str, key: str, email: str) -> set[str]:
    """The users already holding this userName or email, deprovisioned ones too."""
    found = {
        scim.owner_of_user_name(workspace_id, key),
        scim.owner_of_email(workspace_id, email),
        scim.owner_of_email(workspace_id, key),
    }
    return {h for h in found if h is not None}


def _check_unique(
    scim: ScimDirectory, workspace_id: str, user_id: str | None, key: str, email: str
) -> None:
    if _holders(scim, workspace_id, key, email) - {user_id}:
        raise Uniqueness(f"A user with the userName or email {email} already exists.")


def _deprovisioned_holder(
    scim: ScimDirectory, workspace_id: str, key: str, email: str
) -> ScimUser | None:
    """The one deprovisioned user this userName or email names, whom a POST links again."""
    holders = _holders(scim, workspace_id, key, email)
    if len(holders) != 1:
        return None
    (holder,) = holders
    if not scim.is_deprovisioned(workspace_id, holder):
        return None
    return scim.get_user(workspace_id, holder, deprovisioned=True)


def _address_keys(write: UserWrite) -> list[str]:
    """The keys of the userName and of every address in `emails`, however spelled
    (userName first): what a new account would take."""
    emails = [e for e in write.attributes.get("emails") or [] if isinstance(e, dict)]
    values = [e["value"] for e in emails if isinstance(e.get("value"), str)]
    return [address_key(v)[:320] for v in (write.user_name, *values)]


def _refuse_blocked_holders(
    uow: UnitOfWork, workspace_id: str, write: UserWrite, *, actor: Actor, now: datetime
) -> None:
    """Inside the caller's unit of work: refuse (409 uniqueness) a new account taking
    a Blocked user's userName or address, audited on their history and committed:
    provisioning the person again as a new account would escape the block. A
    deprovisioned holder is left to the POST, which links that same account again
    (still Blocked, its identity frozen)."""
    keys = _address_keys(write)
    found = {uow.scim.owner_of_user_name(workspace_id, keys[0])}
    found |= {uow.scim.owner_of_email(workspace_id, k) for k in keys}
    for holder in sorted(h for h in found if h is not None):
        if uow.scim.is_deprovisioned(workspace_id, holder):
            continue
        user = uow.users.get(workspace_id, holder)
        try:
            check_address_free(user, keys[0])
        except errors.AddressHeld as refusal:
            assert user is not None
            note = "An identity provider asked for a new account with this user's address."
            audit_refusal(
                uow, user, route=Route.SCIM, actor=actor, refusal=refusal, note=note, now=now
            )
            uow.commit()
            raise Uniqueness(refusal.detail) from refusal


def create_user(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    actor: Actor,
    write: UserWrite,
    now: datetime,
    request_id: str | None = None,
) -> ScimUser:
    """Create a user through route `scim`, with their SCIM attributes, in one transaction.

    When the userName or email is a user a SCIM DELETE deprovisioned, that account is
    linked again instead (RFC 7644 allows no duplicate, and Roster keeps people's
    history): their attributes are replaced and `active` (true when absent) applies
    as a PUT's would, so a Blocked user asked to be active is refused. A Blocked
    user's userName or address, in any spelling, is taken for good (409 uniqueness).
    """
    try:
        with uow:
            _refuse_blocked_holders(uow, workspace_id, write, actor=actor, now=now)
            email = _account_email(write)
            stored = _stored(write)
            gone = _deprovisioned_holder(uow.scim, workspace_id, stored["user_name_key"], email)
            if gone is None:
                created = _add_user(uow, workspace_id, write, email, stored, actor, now, request_id)
                uow.commit()
    except (IntegrityError, errors.InvalidInput) as clash:
        if isinstance(clash, errors.InvalidInput) and "already exists" not in clash.detail:
            raise
        raise Uniqueness(f"A user with the email {email} already exists.") from clash
    if gone is None:
        return created
    revived = replace(write, active=True if write.active is None else write.active)
    return _rewrite(uow, gone, revived, actor=actor, now=now, relink=True, request_id=request_id)


def _add_user(
    uow: UnitOfWork,
    workspace_id: str,
    write: UserWrite,
    email: str,
    stored: dict[str, Any],
    actor: Actor,
    now: datetime,
    request_id: str | None,
) -> ScimUser:
    """Inside the caller's unit of work: the new user and their SCIM attributes."""
    _check_unique(uow.scim, workspace_id, None, stored["user_name_key"], email)
    status = _target(write.active if write.active is not None else True)
    (user,) = add_users(
        uow,
        workspace_id=workspace_id,
        new=[NewUser(email, _display_name(write, email), status=status)],
        route=Route.SCIM,
        actor=actor,
        now=now,
        batch_id=None,
        request_id=request_id,
    )
    uow.scim.save_attributes(workspace_id, user.id, stored, now)
    return _user(uow.scim, workspace_id, user.id)


def update_user(
    uow: UnitOfWork,
    current: ScimUser,
    *,
    actor: Actor,
    write: UserWrite,
    now: datetime,
    if_match: str | None = None,
    request_id: str | None = None,
) -> ScimUser:
    """Replace a user's SCIM attributes and, when `active` asks for it, their status.

    A Blocked user's identity (userName, externalId, emails) is frozen: changing it
    is refused first (400 mutability, audited). Then the status, through
    `change_in_transaction`: a refusal (a Blocked user asked to become active) is
    audited there and propagates before anything else is written, so the request
    changes nothing. `current` is the user as the caller just read them; the status
    change still checks their version, and the identity check reads them locked.
    """
    _check_version(current.etag, if_match)
    return _rewrite(uow, current, write, actor=actor, now=now, request_id=request_id)


def set_active(
    uow: UnitOfWork,
    current: ScimUser,
    active: bool,
    *,
    actor: Actor,
    now: datetime,
    if_match: str | None = None,
    request_id: str | None = None,
) -> ScimUser:
    """A PATCH of `active` alone: the status change (or nothing, when `active`
    already reads so), and the user as now stored. Their SCIM attributes are
    left as they are, as a full PATCH writing them back unchanged would."""
    _check_version(current.etag, if_match)
    user = _set_active(uow, current, active, actor=actor, now=now, request_id=request_id)
    return current if user is None else replace(current, user=user)


def _rewrite(
    uow: UnitOfWork,
    current: ScimUser,
    write: UserWrite,
    *,
    actor: Actor,
    now: datetime,
    relink: bool = False,
    request_id: str | None = None,
) -> ScimUser:
    """Write what changed, and answer the user as now stored, without reading them
    again: the status change hands back the user row it wrote, and the SCIM
    fields are the values just saved.

    Three transactions, in this order: the checks (a frozen identity is refused,
    and a taken userName or email, before anything is decided or written); the
    status, through the one door (its refusal is committed as an audit entry, so it
    cannot share a transaction with writes it must undo); the attributes."""
    workspace_id, user_id = current.user.workspace_id, current.user.id
    email = _account_email(write)
    name = _display_name(write, email)
    stored = _stored(write) | ({"deprovisioned_at": None} if relink else {})
    changed = _identity_changes(current, stored, email)
    renamed = email != current.user.email or stored["user_name_key"] != address_key(
        current.user_name
    )
    if changed or renamed:
        with uow:
            if changed:
                _lock_identity(uow, current, changed, actor=actor, now=now)
            if renamed:
                _check_unique(uow.scim, workspace_id, user_id, stored["user_name_key"], email)
    activated = _set_active(uow, current, write.active, actor=actor, now=now, request_id=request_id)
    user = activated or current.user
    if not relink and _same(current, stored, email, name):
        return replace(current, user=user)  # a PATCH of `active` alone writes nothing more
    try:
        with uow:
            if changed:  # again, on the user as locked now: a block may have just landed
                _lock_identity(uow, current, changed, actor=actor, now=now)
            uow.scim.save_identity(workspace_id, user_id, email=email, name=name)
            uow.scim.save_attributes(workspace_id, user_id, stored, now)
            _publish_identity(uow, current.user, email, name, actor=actor, request_id=request_id,
                              now=now)  # fmt: skip
            uow.commit()
    except IntegrityError as clash:
        raise Uniqueness(f"A user with the userName or email {email} already exists.") from clash
    return replace(
        current,
        user=replace(user, email=email, name=name, events=[]),
        user_name=stored["user_name"],
        external_id=stored["external_id"],
        display_name=stored["display_name"],
        attributes=stored["attributes"],
        scim_version=current.scim_version + 1,
        updated_at=now,
        linked=True,
    )


def _identity_changes(current: ScimUser, stored: dict[str, Any], email: str) -> tuple[str, ...]:
    """What of the user's identity a write would change, by SCIM's names: userName
    and addresses compared by their keys (a change of case is none), externalId
    exactly (RFC 7643: caseExact)."""
    changed = []
    if stored["user_name_key"] != address_key(current.user_name):
        changed.append("userName")
    if stored["external_id"] != current.external_id:
        changed.append("externalId")
    before = _emails_held(current.attributes, current.user.email)
    if email != current.user.email or _emails_held(stored["attributes"], email) != before:
        changed.append("emails")
    return tuple(changed)


def _emails_held(attributes: dict[str, Any], account_email: str) -> frozenset[str]:
    emails = [e for e in attributes.get("emails") or [] if isinstance(e, dict)]
    values = [e["value"] for e in emails if isinstance(e.get("value"), str)]
    return frozenset({account_email, *(address_key(v) for v in values)})


def _lock_identity(
    uow: UnitOfWork, current: ScimUser, changed: tuple[str, ...], *, actor: Actor, now: datetime
) -> None:
    """Lock the user (the counter first, as every writer does) and refuse, audited,
    an identity change of a Blocked user: route scim may not make one."""
    locked = uow.counts.lock_for_change(current.user.workspace_id, current.user.id)
    user = locked[3] if locked is not None else None
    if user is None:
        raise errors.NotFound(f"No user {current.user.id} in this workspace.")
    refuse_identity_change(uow, user, changed, route=Route.SCIM, actor=actor, now=now)


def _same(current: ScimUser, stored: dict[str, Any], email: str, name: str) -> bool:
    """Whether saving `stored`, `email` and `name` would change nothing stored."""
    return (
        current.linked
        and email == current.user.email
        and name == current.user.name
        and stored["user_name"] == current.user_name
        and stored["external_id"] == current.external_id
        and stored["display_name"] == current.display_name
        and stored["attributes"] == current.attributes
    )


def deactivate_user(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    user_id: str,
    actor: Actor,
    now: datetime,
    if_match: str | None = None,
    request_id: str | None = None,
) -> None:
    """DELETE: the user becomes Inactive (route scim) and is deprovisioned, in one
    transaction: SCIM answers 404 for them from now on, while Roster keeps the
    account and its history. A Blocked user stays Blocked."""
    with uow:
        current = _user(uow.scim, workspace_id, user_id)
        _check_version(current.etag, if_match)
        _set_active_in(uow, current, False, actor=actor, now=now, request_id=request_id)
        key = address_key(current.user_name)
        fallback = {"user_name": current.user_name, "user_name_key": key, "attributes": {}}
        uow.scim.deprovision(workspace_id, user_id, fallback, now)
        uow.commit()


def _set_active(
    uow: UnitOfWork,
    current: ScimUser,
    active: bool | None,
    *,
    actor: Actor,
    now: datetime,
    request_id: str | None = None,
) -> User | None:
    """`_set_active_in` in its own transaction."""
    if active is None or active == current.active:
        return None  # what `active` reads already: no transaction at all
    with uow:
        user = _set_active_in(uow, current, active, actor=actor, now=now, request_id=request_id)
        uow.commit()
    return user


def _set_active_in(
    uow: UnitOfWork,
    current: ScimUser,
    active: bool | None,
    *,
    actor: Actor,
    now: datetime,
    request_id: str | None = None,
) -> User | None:
    """Inside the caller's unit of work, the status `active` asks for, through the
    one door: the user row as written, or None when nothing changed. A refusal is
    committed (its audit entry) before it propagates."""
    if active is None or active == current.active:
        return None  # what `active` reads already: no change, no audit entry
    try:
        result = change_in_transaction(
            uow,
            workspace_id=current.user.workspace_id,
            user_id=current.user.id,
            to=_target(active),
            route=Route.SCIM,
            actor=actor,
            now=now,
            request_id=request_id,
            expected_version=current.user.version,
        )
    except errors.DomainError:
        uow.commit()  # the refused attempt's audit entry
        raise
    return result.user if result.changed else None


def _check_version(etag: str, if_match: str | None) -> None:
    if if_match is None or if_match.strip() == "*":
        return
    wanted = {t.strip() for t in if_match.split(",")}
    if etag not in wanted and etag.removeprefix("W/") not in wanted:
        raise errors.VersionConflict()


# Groups


@dataclass(frozen=True, slots=True)
class GroupWrite:
    """A Group as the provider states it; `members` are the member objects as sent
    (each with a `value` id), kept so `display` and `$ref` read back as written."""

    display_name: str
    external_id: str | None
    members: list[dict[str, Any]]
    attributes: dict[str, Any] = field(default_factory=dict)

    MAX_NAME: ClassVar[int] = 255


def find_groups(engine: Engine, workspace_id: str, narrowing: Narrowing | None) -> list[ScimGroup]:
    n = narrowing or Narrowing()
    with engine.connect() as conn:
        rows = scim_store.group_rows(conn, workspace_id, ids=n.ids, display_names=n.display_names)
        return scim_store.groups_by_rows(conn, workspace_id, rows)


def get_group(engine: Engine, workspace_id: str, group_id: str) -> ScimGroup:
    found = find_groups(engine, workspace_id, Narrowing(ids=[group_id]))
    if not found:
        raise errors.NotFound(f"No group {group_id} in this workspace.")
    return found[0]


def _group_values(write: GroupWrite) -> dict[str, Any]:
    name = write.display_name.strip()
    if not name:
        raise errors.InvalidInput("displayName is required.")
    return {
        "display_name": name[: GroupWrite.MAX_NAME],
        "external_id": _external_id(write.external_id),
        "attributes": {k: v for k, v in write.attributes.items() if k not in _NOT_STORED}
        | {"members": write.members},
    }


def _members(scim: ScimDirectory, workspace_id: str, write: GroupWrite) -> dict[str, str]:
    ids = [str(m.get("value")) for m in write.members]
    found = scim.existing_ids(workspace_id, ids)
    missing = sorted(set(ids) - set(found))
    if missing:
        raise errors.InvalidInput(f"No user or group {missing[0]} in this workspace.")
    return found


def _group_of(scim: ScimDirectory, workspace_id: str, group_id: str) -> ScimGroup:
    found = scim.get_group(workspace_id, group_id)
    if found is None:
        raise errors.NotFound(f"No group {group_id} in this workspace.")
    return found


def create_group(
    uow: UnitOfWork, *, workspace_id: str, write: GroupWrite, now: datetime
) -> ScimGroup:
    values = _group_values(write)
    group_id = new_id("grp")
    made = {"workspace_id": workspace_id, "id": group_id, "version": 1}
    with uow:
        members = _members(uow.scim, workspace_id, write)
        uow.scim.add_group(made | {"created_at": now, "updated_at": now} | values, members)
        group = _group_of(uow.scim, workspace_id, group_id)
        uow.commit()
    return group


def update_group(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    group_id: str,
    write: GroupWrite,
    now: datetime,
    if_match: str | None = None,
) -> ScimGroup:
    with uow:
        _check_version(_group_of(uow.scim, workspace_id, group_id).etag, if_match)
        values = _group_values(write)
        members = _members(uow.scim, workspace_id, write)
        uow.scim.update_group(workspace_id, group_id, values, members, now)
        group = _group_of(uow.scim, workspace_id, group_id)
        uow.commit()
    return group


def delete_group(
    uow: UnitOfWork, *, workspace_id: str, group_id: str, if_match: str | None = None
) -> None:
    """Groups carry no status, so unlike users they are deleted for real."""
    with uow:
        _check_version(_group_of(uow.scim, workspace_id, group_id).etag, if_match)
        uow.scim.delete_group(workspace_id, group_id)
        uow.commit()


def groups_of_users(
    db: Engine | Connection, workspace_id: str, user_ids: Sequence[str]
) -> dict[str, list[tuple[str, str]]]:
    """user id → [(group id, group display name)] for the read-only `groups` attribute."""
    with _reading(db) as conn:
        return scim_store.groups_of(conn, workspace_id, user_ids)


def _publish_identity(
    uow: UnitOfWork, before: User, email: str, name: str, *, actor: Actor,
    request_id: str | None, now: datetime,
) -> None:  # fmt: skip
    """The `user.updated` webhook event of an identity provider's rename."""
    changes = {
        field: [old, new]
        for field, old, new in (("email", before.email, email), ("name", before.name, name))
        if old != new
    }
    if changes:
        who = {"id": actor.id, "name": actor.name}
        event = updated_event(
            before.id, changes, route=Route.SCIM.value, actor=who, request_id=request_id
        )
        publish(uow, before.workspace_id, [event], now)
