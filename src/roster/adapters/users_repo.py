"""Users in SQL: the `UserRepository` port and how a row becomes a `User`.
Every statement names `workspace_id`: no query crosses workspaces."""

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    Connection,
    Row,
    String,
    bindparam,
    case,
    func,
    insert,
    select,
    true,
    update,
)

from roster.adapters.batch_sql import ID_SET, chunks, ids_in
from roster.adapters.tables import users
from roster.domain.users import NewStatus, User
from roster.domain.vocabulary import ReasonCode, Role, Status

# Each (status, role) pair as one shared tuple: a batch reads thousands of users.
_KNOWN = {(s.value, r.value): (s, r) for s in Status for r in Role}
_STATUS_COLUMNS = (
    "status",
    "status_reason",
    "status_note",
    "status_changed_at",
    "status_changed_by",
    "version",
)


def user_from_row(row: Row[Any]) -> User:
    m = row._mapping
    return User(
        id=m["id"],
        workspace_id=m["workspace_id"],
        email=m["email"],
        name=m["name"],
        role=Role(m["role"]),
        status=Status(m["status"]),
        status_reason=ReasonCode(m["status_reason"]) if m["status_reason"] else None,
        status_note=m["status_note"],
        status_changed_at=m["status_changed_at"],
        status_changed_by=m["status_changed_by"],
        version=m["version"],
        review_by=m["review_by"],
        expires_at=m["expires_at"],
    )


USER_COLUMNS = [
    users.c[c]
    for c in (
        "id",
        "workspace_id",
        "email",
        "name",
        "role",
        "status",
        "status_reason",
        "status_note",
        "status_changed_at",
        "status_changed_by",
        "version",
        "review_by",
        "expires_at",
    )
]


@cache
def _by_email_probes() -> Any:
    """Users by email on PostgreSQL as one probe of the unique (workspace_id, email)
    index per address. `email = ANY(…)` lets the planner scan the workspace instead,
    and it does on a table it has no statistics for yet (a first large import): each
    chunk then reads every row so far. A LATERAL subquery with a LIMIT cannot be
    merged into a join, so each address is looked up by itself, through the index."""
    emails = bindparam("emails", type_=ARRAY(String))
    wanted = func.unnest(emails).table_valued("email").render_derived(name="wanted")
    one = (
        select(*USER_COLUMNS)
        .where(users.c.workspace_id == bindparam("ws"), users.c.email == wanted.c.email)
        .limit(1)
        .lateral("found")
    )
    return select(one).select_from(wanted.join(one, true()))


class SqlUserRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.for_update = conn.dialect.name == "postgresql"

    def _select(self, workspace_id: str, *where: Any, lock: bool = False) -> list[User]:
        query = select(*USER_COLUMNS).where(users.c.workspace_id == workspace_id, *where)
        if lock and self.for_update:
            query = query.order_by(users.c.id).with_for_update()
        return [user_from_row(r) for r in self.conn.execute(query)]

    def get(self, workspace_id: str, user_id: str) -> User | None:
        found = self._select(workspace_id, users.c.id == user_id)
        return found[0] if found else None

    def get_for_update(self, workspace_id: str, user_id: str) -> User | None:
        query = _user_for_update(self.for_update)  # built once: a status change's hot path
        row = self.conn.execute(query, {"ws": workspace_id, "one_user": user_id}).first()
        return user_from_row(row) if row else None

    def get_statuses_for_update(
        self, workspace_id: str, user_ids: Sequence[str]
    ) -> dict[str, tuple[Status, Role]]:
        """The status and role of each of `user_ids` that exists, rows locked in id
        order: what a batch's decisions read, without loading whole users."""
        c = users.c
        found: dict[str, tuple[Status, Role]] = {}
        for chunk in chunks(sorted(user_ids), ID_SET):
            query = select(c.id, c.status, c.role).where(
                c.workspace_id == workspace_id, ids_in(self.conn, c.id, chunk)
            )
            if self.for_update:
                query = query.order_by(c.id).with_for_update()
            for user_id, status, role in self.conn.execute(query).all():
                found[user_id] = _KNOWN[status, role]
        return found

    def expired_for_update(
        self, workspace_id: str, user_ids: Sequence[str], now: datetime
    ) -> dict[str, tuple[Status, Role]]:
        """Of `user_ids`, the Active and Blocked users whose `expires_at` has passed
        at `now`, with their status and role, rows locked in id order: what the expiry
        tick read before the lock is read again under it."""
        c = users.c
        query = select(c.id, c.status, c.role).where(
            c.workspace_id == workspace_id,
            ids_in(self.conn, c.id, sorted(user_ids)),
            c.status.in_([Status.ACTIVE.value, Status.BLOCKED.value]),
            c.expires_at <= now,
        )
        if self.for_update:
            query = query.order_by(c.id).with_for_update()
        rows = self.conn.execute(query).all()
        return {user_id: _KNOWN[status, role] for user_id, status, role in rows}

    def expired(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(workspace id, user id) of Active and Blocked users whose `expires_at` has
        passed at `now`, across workspaces, in that order (the index on expires_at)."""
        c = users.c
        rows = self.conn.execute(
            select(c.workspace_id, c.id)
            .where(c.status.in_([Status.ACTIVE.value, Status.BLOCKED.value]), c.expires_at <= now)
            .order_by(c.workspace_id, c.id)
            .limit(limit)
        )
        return [(str(w), str(u)) for w, u in rows]

    def get_by_email(self, workspace_id: str, email: str) -> User | None:
        found = self._select(workspace_id, users.c.email == email)
        return found[0] if found else None

    def get_many_by_email(self, workspace_id: str, emails: Sequence[str]) -> dict[str, User]:
        if self.for_update:  # PostgreSQL
            rows = self.conn.execute(_by_email_probes(), {"ws": workspace_id, "emails": emails})
            return {u.email: u for u in map(user_from_row, rows)}
        return {
            u.email: u
            for chunk in chunks(list(emails))
            for u in self._select(workspace_id, users.c.email.in_(chunk))
        }

    def add_many(
        self,
        new: Sequence[User],
        now: datetime,
        password_hashes: dict[str, str],
        last_seen: dict[str, datetime],
    ) -> None:
        if not new:
            return
        self.conn.execute(
            insert(users),
            [
                {c.key: getattr(u, c.key) for c in USER_COLUMNS}
                | {
                    "created_at": now,
                    "password_hash": password_hashes.get(u.id),
                    "last_seen_at": last_seen.get(u.id),
                }
                for u in new
            ],
        )

    def set_status(self, workspace_id: str, user_ids: Sequence[str], new: NewStatus) -> None:
        """Give `user_ids` the same new status columns, bumping each one's version.
        A block sets its review date, any other status clears it; reactivating
        forgets a passed expiry (`NewStatus.clears_expiry`)."""
        values: dict[str, Any] = dict(
            zip(
                _STATUS_COLUMNS[:-1],
                (new.status, new.reason, new.note, new.changed_at, new.changed_by),
                strict=True,
            )
        )
        values["review_by"] = new.review_by
        if new.status == Status.ACTIVE:
            passed = users.c.expires_at <= new.changed_at
            values["expires_at"] = case((passed, None), else_=users.c.expires_at)
        for chunk in chunks(user_ids, ID_SET):
            where = ids_in(self.conn, users.c.id, chunk)
            self.conn.execute(_status_update(workspace_id, where, values))

    def set_password(self, user: User, password_hash: str) -> None:
        self.conn.execute(
            update(users)
            .where(users.c.workspace_id == user.workspace_id, users.c.id == user.id)
            .values(password_hash=password_hash)
        )

    def password_hash(self, workspace_id: str, user_id: str) -> str | None:
        query = select(users.c.password_hash).where(
            users.c.workspace_id == workspace_id, users.c.id == user_id
        )
        hashed: str | None = self.conn.execute(query).scalar_one_or_none()
        return hashed

    def signed_in(self, user: User, now: datetime, password_hash: str | None) -> None:
        stamp: dict[str, Any] = {"last_seen_at": now}
        if password_hash:
            stamp["password_hash"] = password_hash
        self.conn.execute(
            update(users)
            .where(users.c.workspace_id == user.workspace_id, users.c.id == user.id)
            .values(**stamp)
        )

    def set_review(self, user: User) -> None:
        """The user's review date (a review recorded on a Blocked user)."""
        self.conn.execute(
            update(users)
            .where(users.c.workspace_id == user.workspace_id, users.c.id == user.id)
            .values(review_by=user.review_by)
        )

    def set_expiry(
        self, workspace_id: str, user_ids: Sequence[str], expires_at: datetime | None
    ) -> None:
        """When `user_ids`' accounts end (None: never)."""
        for chunk in chunks(user_ids, ID_SET):
            self.conn.execute(
                update(users)
                .where(users.c.workspace_id == workspace_id, ids_in(self.conn, users.c.id, chunk))
                .values(expires_at=expires_at)
            )

    def save_profile(self, user: User) -> None:
        """Name and role (the fields an admin edits), with the version they bumped."""
        self.conn.execute(
            update(users)
            .where(users.c.workspace_id == user.workspace_id, users.c.id == user.id)
            .values(name=user.name, role=user.role, version=user.version)
        )


def _status_update(workspace_id: Any, which: Any, values: dict[str, Any]) -> Any:
    """The users `which` selects get the status `values` (values or bind parameters)."""
    return (
        update(users)
        .where(users.c.workspace_id == workspace_id, which)
        .values(**values, version=users.c.version + 1)
    )


@cache
def _user_for_update(lock: bool) -> Any:
    query = select(*USER_COLUMNS).where(
        users.c.workspace_id == bindparam("ws"), users.c.id == bindparam("one_user")
    )
    return query.with_for_update() if lock else query
