"""SQL for the SCIM attributes and groups. Every statement names
`workspace_id`; the user rows themselves are written only by the user services."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    union_all,
    update,
)

from roster.adapters.batch_sql import CHUNK
from roster.adapters.bound_in import FIXED_IN, bound_in, bound_in_values
from roster.adapters.tables import scim_attributes, scim_group_members, scim_groups, users
from roster.adapters.users_repo import user_from_row
from roster.domain.scim import ScimGroup, ScimUser

_A = scim_attributes.c


def _users_joined() -> Any:
    return select(users, *[c.label(f"scim_{c.key}") for c in scim_attributes.c]).outerjoin(
        scim_attributes,
        (_A.workspace_id == users.c.workspace_id) & (_A.user_id == users.c.id),
    )


def user_rows(
    conn: Connection,
    workspace_id: str,
    *,
    ids: Sequence[str] | None = None,
    emails: Sequence[str] | None = None,
    user_name_keys: Sequence[str] | None = None,
    external_ids: Sequence[str] | None = None,
    offset: int = 0,
    limit: int | None = None,
    deprovisioned: bool = False,
) -> list[Row[Any]]:
    """Users joined with their SCIM attributes (absent for users made elsewhere).

    A row matching any of the narrowing lists is returned; each list is looked up
    on its own index (an OR across the two tables would scan the workspace). With
    none given, every user of the workspace, in id order, from `offset`. Users a
    SCIM DELETE deprovisioned are left out unless `deprovisioned` asks for them.
    """
    wanted = _narrowing(ids, emails, user_name_keys, external_ids)
    if not wanted:
        base = _users_joined().where(users.c.workspace_id == workspace_id)
        if not deprovisioned:
            base = base.where(_A.deprovisioned_at.is_(None))
        query = base.order_by(users.c.id).offset(offset)
        return list(conn.execute(query if limit is None else query.limit(limit)))
    found: dict[str, Row[Any]] = {}
    for row in conn.execute(*_looked_up(workspace_id, wanted, deprovisioned, False)):
        found[row.id] = row
    return [found[k] for k in sorted(found)]


def user_rows_with_groups(
    conn: Connection,
    workspace_id: str,
    *,
    ids: Sequence[str] | None = None,
    emails: Sequence[str] | None = None,
    user_name_keys: Sequence[str] | None = None,
    external_ids: Sequence[str] | None = None,
) -> tuple[list[Row[Any]], dict[str, list[tuple[str, str]]]]:
    """`user_rows` of the users any narrowing list names (at least one given), and
    their groups as `groups_of` reads them, in one statement: each user's row comes
    once per group (joined to the membership and the group), in group id order."""
    wanted = _narrowing(ids, emails, user_name_keys, external_ids)
    found: dict[str, Row[Any]] = {}
    groups: dict[str, list[tuple[str, str]]] = {}
    for row in conn.execute(*_looked_up(workspace_id, wanted, False, True)):
        found.setdefault(row.id, row)
        held = groups.setdefault(row.id, [])
        if row.member_group_id is not None and (row.member_group_id, row.member_group) not in held:
            held.append((row.member_group_id, row.member_group))
    return [found[k] for k in sorted(found)], groups


def _narrowing(
    ids: Sequence[str] | None,
    emails: Sequence[str] | None,
    user_name_keys: Sequence[str] | None,
    external_ids: Sequence[str] | None,
) -> dict[str, list[str]]:
    """The narrowing lists given, by lookup column name (each cut to CHUNK values)."""
    lookups = {"id": ids, "email": emails, "user_name_key": user_name_keys}
    lookups["external_id"] = external_ids
    return {name: list(values)[:CHUNK] for name, values in lookups.items() if values is not None}


def _looked_up(
    workspace_id: str, wanted: dict[str, list[str]], deprovisioned: bool, with_groups: bool
) -> tuple[Any, dict[str, Any]]:
    """The lookup statement for the narrowing lists `wanted`, and its parameters."""
    shape = tuple((name, min(len(v), FIXED_IN + 1)) for name, v in wanted.items())
    params: dict[str, Any] = {"workspace_id": workspace_id}
    for name, values in wanted.items():
        params |= bound_in_values(name, values)
    return _lookup(shape, deprovisioned, with_groups), params


_LOOKUP_COLUMNS = {
    "id": users.c.id,
    "email": users.c.email,
    "user_name_key": _A.user_name_key,
    "external_id": _A.external_id,
}


@lru_cache(maxsize=256)
def _lookup(shape: tuple[tuple[str, int], ...], deprovisioned: bool, with_groups: bool) -> Any:
    """One statement, built once per shape (the columns named and how many values
    each), fetching the users any of the named columns matches: each an indexed
    lookup of its own, UNION ALL-ed (so one round trip; an OR across the two
    tables would scan the workspace). `with_groups`: each user joined to their
    memberships and groups (`_groups_of`'s join), rows in user then group id order."""
    parts = []
    for name, count in shape:
        part = _users_joined()
        if with_groups:
            part = part.add_columns(
                _G.id.label("member_group_id"), _G.display_name.label("member_group")
            ).outerjoin(
                scim_group_members.join(
                    scim_groups, (_G.workspace_id == _M.workspace_id) & (_G.id == _M.group_id)
                ),
                (_M.workspace_id == users.c.workspace_id) & (_M.member_id == users.c.id),
            )
        part = part.where(
            users.c.workspace_id == bindparam("workspace_id"),
            bound_in(_LOOKUP_COLUMNS[name], name, count),
        )
        if not deprovisioned:
            part = part.where(_A.deprovisioned_at.is_(None))
        parts.append(part)
    if len(parts) == 1:
        return parts[0].order_by(users.c.id, _G.id) if with_groups else parts[0]
    if not with_groups:
        return union_all(*parts)
    found = union_all(*parts).subquery()
    return select(*found.c).order_by(found.c.id, found.c.member_group_id)


def count_users(conn: Connection, workspace_id: str) -> int:
    """The workspace's users SCIM shows: all but those it deprovisioned."""
    everyone = conn.execute(
        select(func.count()).select_from(users).where(users.c.workspace_id == workspace_id)
    ).scalar_one()
    gone = conn.execute(
        select(func.count())
        .select_from(scim_attributes)
        .where(_A.workspace_id == workspace_id, _A.deprovisioned_at.is_not(None))
    ).scalar_one()
    return int(everyone) - int(gone)


def owner_of_user_name(conn: Connection, workspace_id: str, key: str) -> str | None:
    """The user whose userName compares equal to `key`, if any."""
    return conn.execute(
        select(_A.user_id).where(_A.workspace_id == workspace_id, _A.user_name_key == key)
    ).scalar_one_or_none()


def owner_of_email(conn: Connection, workspace_id: str, email: str) -> str | None:
    return conn.execute(
        select(users.c.id).where(users.c.workspace_id == workspace_id, users.c.email == email)
    ).scalar_one_or_none()


def save_attributes(
    conn: Connection,
    workspace_id: str,
    user_id: str,
    values: dict[str, Any],
    now: datetime,
    fallback: dict[str, Any] | None = None,
) -> None:
    """Update a user's SCIM row with `values`, bumping its version; a user with no
    row yet gets one of `fallback` (default: nothing more) and `values`."""
    updated = conn.execute(
        update(scim_attributes)
        .where(_A.workspace_id == workspace_id, _A.user_id == user_id)
        .values(**values, version=_A.version + 1, updated_at=now)
    ).rowcount
    if not updated:
        conn.execute(
            insert(scim_attributes).values(
                workspace_id=workspace_id,
                user_id=user_id,
                version=1,
                updated_at=now,
                **(fallback or {}) | values,
            )
        )


def deprovision(
    conn: Connection, workspace_id: str, user_id: str, fallback: dict[str, Any], now: datetime
) -> None:
    """Mark the user deprovisioned (a user made elsewhere gets their SCIM row from
    `fallback`) and take them out of every group."""
    save_attributes(conn, workspace_id, user_id, {"deprovisioned_at": now}, now, fallback)
    conn.execute(
        delete(scim_group_members).where(
            _M.workspace_id == workspace_id, _M.member_id == user_id, _M.member_type == "User"
        )
    )


def is_deprovisioned(conn: Connection, workspace_id: str, user_id: str) -> bool:
    stamp = conn.execute(
        select(_A.deprovisioned_at).where(_A.workspace_id == workspace_id, _A.user_id == user_id)
    ).scalar_one_or_none()
    return stamp is not None


def save_identity(
    conn: Connection, workspace_id: str, user_id: str, *, email: str, name: str
) -> None:
    """The user's email and name as the identity provider now states them."""
    conn.execute(
        update(users)
        .where(users.c.workspace_id == workspace_id, users.c.id == user_id)
        .values(email=email, name=name)
    )


# Groups

_G = scim_groups.c
_M = scim_group_members.c


def group_rows(
    conn: Connection,
    workspace_id: str,
    *,
    ids: Sequence[str] | None = None,
    display_names: Sequence[str] | None = None,
) -> list[Row[Any]]:
    query = select(scim_groups).where(_G.workspace_id == workspace_id)
    narrowing = []
    if ids is not None:
        narrowing.append(_G.id.in_(ids))
    if display_names is not None:
        lowered = [d.lower() for d in display_names]
        narrowing.append(func.lower(_G.display_name).in_(lowered))
    if narrowing:
        query = query.where(or_(*narrowing))
    return list(conn.execute(query.order_by(_G.id)))


def members_of(
    conn: Connection, workspace_id: str, group_ids: Sequence[str]
) -> dict[str, list[tuple[str, str]]]:
    """group id → [(member id, member type)], in member id order."""
    found: dict[str, list[tuple[str, str]]] = {g: [] for g in group_ids}
    for i in range(0, len(group_ids), CHUNK):
        rows = conn.execute(
            select(_M.group_id, _M.member_id, _M.member_type)
            .where(_M.workspace_id == workspace_id, _M.group_id.in_(group_ids[i : i + CHUNK]))
            .order_by(_M.group_id, _M.member_id)
        )
        for row in rows:
            found[row.group_id].append((row.member_id, row.member_type))
    return found


def existing_ids(conn: Connection, workspace_id: str, ids: Iterable[str]) -> dict[str, str]:
    """Which of `ids` are users or groups of the workspace: id → "User" / "Group"."""
    wanted = sorted(set(ids))
    found: dict[str, str] = {}
    for i in range(0, len(wanted), CHUNK):
        chunk = wanted[i : i + CHUNK]
        for (uid,) in conn.execute(
            select(users.c.id)
            .outerjoin(
                scim_attributes,
                (_A.workspace_id == users.c.workspace_id) & (_A.user_id == users.c.id),
            )
            .where(
                users.c.workspace_id == workspace_id,
                users.c.id.in_(chunk),
                _A.deprovisioned_at.is_(None),
            )
        ):
            found[uid] = "User"
        for (gid,) in conn.execute(
            select(_G.id).where(_G.workspace_id == workspace_id, _G.id.in_(chunk))
        ):
            found[gid] = "Group"
    return found


def insert_group(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(insert(scim_groups).values(**values))


def update_group(
    conn: Connection, workspace_id: str, group_id: str, values: dict[str, Any], now: datetime
) -> None:
    conn.execute(
        update(scim_groups)
        .where(_G.workspace_id == workspace_id, _G.id == group_id)
        .values(**values, version=_G.version + 1, updated_at=now)
    )


def set_members(
    conn: Connection, workspace_id: str, group_id: str, members: dict[str, str]
) -> None:
    """Make the group's membership exactly `members` (id → type)."""
    conn.execute(
        delete(scim_group_members).where(_M.workspace_id == workspace_id, _M.group_id == group_id)
    )
    if members:
        conn.execute(
            insert(scim_group_members),
            [
                {
                    "workspace_id": workspace_id,
                    "group_id": group_id,
                    "member_id": m,
                    "member_type": t,
                }
                for m, t in sorted(members.items())
            ],
        )


def delete_group(conn: Connection, workspace_id: str, group_id: str) -> bool:
    """Delete a group, its memberships, and its membership in other groups."""
    conn.execute(
        delete(scim_group_members).where(
            _M.workspace_id == workspace_id,
            or_(_M.group_id == group_id, _M.member_id == group_id),
        )
    )
    gone = conn.execute(
        delete(scim_groups).where(_G.workspace_id == workspace_id, _G.id == group_id)
    ).rowcount
    return bool(gone)


def groups_of(
    conn: Connection, workspace_id: str, user_ids: Sequence[str]
) -> dict[str, list[tuple[str, str]]]:
    """user id → [(group id, group display name)], for the read-only `groups`."""
    found: dict[str, list[tuple[str, str]]] = {u: [] for u in user_ids}
    ids = list(user_ids)
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        params = {"workspace_id": workspace_id} | bound_in_values("ids", chunk)
        for row in conn.execute(_groups_of(min(len(chunk), FIXED_IN + 1)), params):
            found[row.member_id].append((row.id, row.display_name))
    return found


@cache
def _groups_of(count: int) -> Any:
    """Built once per arity (`_in`): most SCIM answers carry a user's groups."""
    return (
        select(_M.member_id, _G.id, _G.display_name)
        .join(scim_groups, (_G.workspace_id == _M.workspace_id) & (_G.id == _M.group_id))
        .where(_M.workspace_id == bindparam("workspace_id"), bound_in(_M.member_id, "ids", count))
        .order_by(_M.member_id, _G.id)
    )


def scim_user(row: Row[Any]) -> ScimUser:
    """A `user_rows` row as SCIM shows it: a user with no SCIM row (made elsewhere)
    reads their email as userName and their name as displayName."""
    m = row._mapping
    present = m["scim_user_id"] is not None
    return ScimUser(
        user=user_from_row(row),
        created_at=m["created_at"],
        user_name=m["scim_user_name"] if present else m["email"],
        external_id=m["scim_external_id"],
        display_name=m["scim_display_name"] if present else m["name"],
        attributes=dict(m["scim_attributes"] or {}) if present else {},
        scim_version=m["scim_version"] or 0,
        updated_at=m["scim_updated_at"],
        linked=present,
    )


def scim_group(row: Row[Any], members: list[tuple[str, str]]) -> ScimGroup:
    m = row._mapping
    return ScimGroup(
        id=m["id"],
        display_name=m["display_name"],
        external_id=m["external_id"],
        attributes=dict(m["attributes"] or {}),
        members=members,
        version=m["version"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def groups_by_rows(conn: Connection, workspace_id: str, rows: list[Row[Any]]) -> list[ScimGroup]:
    """The groups of `group_rows`, each with its members."""
    members = members_of(conn, workspace_id, [r.id for r in rows])
    return [scim_group(r, members[r.id]) for r in rows]


class SqlScimDirectory:
    """The SCIM attributes and groups, inside a unit of work's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get_user(
        self, workspace_id: str, user_id: str, *, deprovisioned: bool = False
    ) -> ScimUser | None:
        rows = user_rows(self.conn, workspace_id, ids=[user_id], deprovisioned=deprovisioned)
        return scim_user(rows[0]) if rows else None

    def owner_of_user_name(self, workspace_id: str, key: str) -> str | None:
        return owner_of_user_name(self.conn, workspace_id, key)

    def owner_of_email(self, workspace_id: str, email: str) -> str | None:
        return owner_of_email(self.conn, workspace_id, email)

    def is_deprovisioned(self, workspace_id: str, user_id: str) -> bool:
        return is_deprovisioned(self.conn, workspace_id, user_id)

    def save_attributes(
        self, workspace_id: str, user_id: str, values: dict[str, Any], now: datetime
    ) -> None:
        save_attributes(self.conn, workspace_id, user_id, values, now)

    def save_identity(self, workspace_id: str, user_id: str, *, email: str, name: str) -> None:
        save_identity(self.conn, workspace_id, user_id, email=email, name=name)

    def deprovision(
        self, workspace_id: str, user_id: str, fallback: dict[str, Any], now: datetime
    ) -> None:
        deprovision(self.conn, workspace_id, user_id, fallback, now)

    def get_group(self, workspace_id: str, group_id: str) -> ScimGroup | None:
        rows = group_rows(self.conn, workspace_id, ids=[group_id])
        return next(iter(groups_by_rows(self.conn, workspace_id, rows)), None)

    def existing_ids(self, workspace_id: str, ids: Iterable[str]) -> dict[str, str]:
        return existing_ids(self.conn, workspace_id, ids)

    def add_group(self, values: dict[str, Any], members: dict[str, str]) -> None:
        insert_group(self.conn, values)
        set_members(self.conn, values["workspace_id"], values["id"], members)

    def update_group(
        self,
        workspace_id: str,
        group_id: str,
        values: dict[str, Any],
        members: dict[str, str],
        now: datetime,
    ) -> None:
        update_group(self.conn, workspace_id, group_id, values, now)
        set_members(self.conn, workspace_id, group_id, members)

    def delete_group(self, workspace_id: str, group_id: str) -> bool:
        return delete_group(self.conn, workspace_id, group_id)
