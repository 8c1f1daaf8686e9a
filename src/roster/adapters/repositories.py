"""SQL implementations of the service ports, on SQLAlchemy Core.

Every statement names `workspace_id`: no query crosses workspaces.
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    update,
)

from roster.adapters.batch_sql import among, bind_value, ids_in, insert_rows_sharing
from roster.adapters.tables import (
    audit_events,
    automation_rules,
    credentials,
    invitations,
    outbox,
    user_counts,
    users,
    workspaces,
)
from roster.domain.access import Revoked
from roster.domain.audit import AuditEntry, AuditKind, ChainHead, canonical_changes, extend
from roster.domain.ids import new_id
from roster.domain.users import NewStatus, User
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.domain.workspaces import UserCounts, Workspace

CHUNK = 900  # ids per IN (...) list: under SQLite's default variable limit with room to spare
ID_SET = 10_000  # ids per `ids_in` value (one bound parameter, so no variable limit)

_STATUSES = {s.value: s for s in Status}
_STATUS_VALUES: dict[Status | None, str] = {s: s.value for s in Status}
_ROLES = {r.value: r for r in Role}
_STATUS_COLUMNS = (
    "status",
    "status_reason",
    "status_note",
    "status_changed_at",
    "status_changed_by",
    "version",
)


def _chunks(seq: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


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
    )


_USER_COLUMNS = [
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
    )
]


class SqlWorkspaceRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _one(self, *where: Any) -> Workspace | None:
        row = self.conn.execute(select(workspaces).where(*where)).first()
        return Workspace(**row._mapping) if row else None

    def get(self, workspace_id: str) -> Workspace | None:
        return self._one(workspaces.c.id == workspace_id)

    def get_by_slug(self, slug: str) -> Workspace | None:
        return self._one(workspaces.c.slug == slug)

    def add(self, workspace: Workspace) -> None:
        self.conn.execute(insert(workspaces).values(**_fields(workspace)))

    def save_settings(self, workspace: Workspace) -> None:
        self.conn.execute(
            update(workspaces)
            .where(workspaces.c.id == workspace.id)
            .values(
                allow_api_unblock=workspace.allow_api_unblock,
                reactivate_on_sign_in=workspace.reactivate_on_sign_in,
                seat_limit=workspace.seat_limit,
                name=workspace.name,
                timezone=workspace.timezone,
            )
        )


def _fields(workspace: Workspace) -> dict[str, Any]:
    return {f: getattr(workspace, f) for f in workspace.__slots__}


class SqlUserRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.for_update = conn.dialect.name == "postgresql"

    def _select(self, workspace_id: str, *where: Any, lock: bool = False) -> list[User]:
        query = select(*_USER_COLUMNS).where(users.c.workspace_id == workspace_id, *where)
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
        for chunk in _chunks(sorted(user_ids), ID_SET):
            query = select(c.id, c.status, c.role).where(
                c.workspace_id == workspace_id, ids_in(self.conn, c.id, chunk)
            )
            if self.for_update:
                query = query.order_by(c.id).with_for_update()
            for user_id, status, role in self.conn.execute(query).all():
                found[user_id] = (_STATUSES[status], _ROLES[role])
        return found

    def get_by_email(self, workspace_id: str, email: str) -> User | None:
        found = self._select(workspace_id, users.c.email == email)
        return found[0] if found else None

    def get_many_by_email(self, workspace_id: str, emails: Sequence[str]) -> dict[str, User]:
        return {
            u.email: u
            for chunk in _chunks(list(emails))
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
                {c.key: getattr(u, c.key) for c in _USER_COLUMNS}
                | {
                    "created_at": now,
                    "password_hash": password_hashes.get(u.id),
                    "last_seen_at": last_seen.get(u.id),
                }
                for u in new
            ],
        )

    def set_status(self, workspace_id: str, user_ids: Sequence[str], new: NewStatus) -> None:
        """Give `user_ids` the same new status columns, bumping each one's version."""
        values = dict(
            zip(
                _STATUS_COLUMNS[:-1],
                (new.status, new.reason, new.note, new.changed_at, new.changed_by),
                strict=True,
            )
        )
        for chunk in _chunks(user_ids, ID_SET):
            where = ids_in(self.conn, users.c.id, chunk)
            self.conn.execute(_status_update(workspace_id, where, values))

    def save_role(self, user: User) -> None:
        self.conn.execute(
            update(users)
            .where(
                users.c.workspace_id == user.workspace_id,
                users.c.id == user.id,
            )
            .values(role=user.role, version=user.version)
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
    query = select(*_USER_COLUMNS).where(
        users.c.workspace_id == bindparam("ws"), users.c.id == bindparam("one_user")
    )
    return query.with_for_update() if lock else query


class SqlUserCounts:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def create(self, workspace_id: str) -> None:
        self.conn.execute(
            insert(user_counts).values(
                workspace_id=workspace_id,
                active=0,
                inactive=0,
                blocked=0,
                active_owners=0,
                audit_seq=0,
                audit_head="",
            )
        )

    def lock(self, workspace_id: str) -> UserCounts:
        query = select(*_COUNT_COLUMNS).where(user_counts.c.workspace_id == workspace_id)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return UserCounts(*row) if row else UserCounts()

    def lock_for_change(
        self, workspace_id: str, user_id: str
    ) -> tuple[Workspace, UserCounts, ChainHead, User | None] | None:
        """One statement: the counter row locked, with its workspace row, then the
        user's row locked (FOR UPDATE OF each on PostgreSQL, in that order; SQLite's
        write transaction holds the whole database)."""
        params = {"ws": workspace_id, "one_user": user_id}
        row = self.conn.execute(_locked_with_user(self.conn.dialect.name), params).first()
        if row is not None:
            return (*_counter_read(row), user_from_row(row))
        # No such user, or no such workspace: the counter row alone tells which.
        row = self.conn.execute(_locked(self.conn.dialect.name), {"ws": workspace_id}).first()
        return None if row is None else (*_counter_read(row), None)

    def add(self, workspace_id: str, delta: UserCounts) -> None:
        if delta == UserCounts():
            return
        moved = {c.key: getattr(delta, c.key) for c in _COUNT_COLUMNS}
        self.conn.execute(_counts_update(workspace_id, moved))


_COUNT_COLUMNS = tuple(user_counts.c[k] for k in ("active", "inactive", "blocked", "active_owners"))


def _counts_update(workspace_id: Any, moved: dict[str, Any], **also: Any) -> Any:
    """The counter moved by `moved` (count column → change), setting `also` too."""
    c = user_counts.c
    added = {k: c[k] + v for k, v in moved.items()}
    return update(user_counts).where(c.workspace_id == workspace_id).values(**added, **also)


def _counter_read(row: Row[Any]) -> tuple[Workspace, UserCounts, ChainHead]:
    m = row._mapping
    workspace = Workspace(**{f: m[f"ws_{f}"] for f in Workspace.__slots__})
    counts = UserCounts(*(m[c.key] for c in _COUNT_COLUMNS))
    return workspace, counts, ChainHead(m["audit_seq"], m["audit_head"])


@cache
def _locked_with_user(dialect: str) -> Any:
    """`_locked` and the user's row. On PostgreSQL the counter is locked in a
    MATERIALIZED CTE and the user row by the outer FOR UPDATE OF users, which
    only locks rows joined to a counter row the CTE has already locked: the lock
    order stays counter first, user second."""
    the_user = (users.c.workspace_id == bindparam("ws")) & (users.c.id == bindparam("one_user"))
    if dialect != "postgresql":
        return _locked(dialect).add_columns(*_USER_COLUMNS).join(users, the_user)
    counter = _locked(dialect).cte("locked_counter").prefix_with("MATERIALIZED")
    return (
        select(*counter.c, *_USER_COLUMNS)
        .select_from(counter.join(users, the_user))
        .with_for_update(of=users)
    )


@cache
def _locked(dialect: str) -> Any:
    """The counter row with its workspace (columns ws_*), built once per dialect."""
    c = user_counts.c
    query = (
        select(
            *_COUNT_COLUMNS,
            c.audit_seq,
            c.audit_head,
            *(workspaces.c[f].label(f"ws_{f}") for f in Workspace.__slots__),
        )
        .join(workspaces, workspaces.c.id == c.workspace_id)
        .where(c.workspace_id == bindparam("ws"))
    )
    return query.with_for_update(of=user_counts) if dialect == "postgresql" else query


class SqlAuditLog:
    """The one writer of the audit chain: status attempts and admin actions alike."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def append(self, entries: Sequence[AuditEntry], after: ChainHead | None = None) -> None:
        """Append entries (all of one workspace), numbered and hashed onto the end of
        its chain, set-based: the rows that share all but their id, seq, user, from
        status and hash go in one statement. `after` is the chain's end when the
        caller has just read it with the counter row locked; otherwise reserving the
        numbers updates (so locks) the counter row. Either way seq follows the order
        of commits and the chain has no forks."""
        if not entries:
            return
        workspace_id, c = entries[0].workspace_id, user_counts.c
        counter = update(user_counts).where(c.workspace_id == workspace_id)
        if after is None:
            reserved = counter.values(audit_seq=c.audit_seq + len(entries))
            last, head = self.conn.execute(reserved.returning(c.audit_seq, c.audit_head)).one()
            after = ChainHead(last - len(entries), head)
        links = extend(after, entries)
        self._insert(workspace_id, entries, links)
        end = links[-1]
        self.conn.execute(counter.values(audit_seq=end.seq, audit_head=end.hash))

    def _insert(
        self, workspace_id: str, entries: Sequence[AuditEntry], links: Sequence[ChainHead]
    ) -> None:
        alike: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}  # a batch has a few kinds
        for e, link in zip(entries, links, strict=True):
            own = (e.id, link.seq, e.user_id, _STATUS_VALUES.get(e.from_status), link.hash)
            shared = (
                _STATUS_VALUES.get(e.to_status),
                e.route.value,
                e.actor_id,
                e.actor_name,
                e.reason_code.value if e.reason_code else None,
                e.note,
                e.at,
                e.outcome,
                e.request_id,
                e.batch_id,
                e.kind.value,
                None if e.changes is None else canonical_changes(e.changes),
            )
            alike.setdefault(shared, []).append(own)
        for shared, rows in alike.items():
            values = dict(zip(_AUDIT_SHARED, shared, strict=True))
            values["at"] = bind_value(self.conn, audit_events.c.at, values["at"])
            insert_rows_sharing(
                self.conn, audit_events, _AUDIT_OWN, rows, {"workspace_id": workspace_id, **values}
            )


_AUDIT_OWN = ("id", "seq", "user_id", "from_status", "hash")  # each entry's own
# The rest, in the order `SqlAuditLog._insert` lists them; `changes` is stored as its
# canonical JSON text (the column is JSON): what the chain hashed, byte for byte.
_AUDIT_SHARED = (
    "to_status",
    "route",
    "actor_id",
    "actor_name",
    "reason_code",
    "note",
    "at",
    "outcome",
    "request_id",
    "batch_id",
    "kind",
    "changes",
)


def audit_from_row(row: Row[Any]) -> AuditEntry:
    m = dict(row._mapping)
    m["from_status"] = Status(m["from_status"]) if m["from_status"] else None
    m["to_status"] = Status(m["to_status"]) if m["to_status"] else None
    m["route"] = Route(m["route"])
    m["reason_code"] = ReasonCode(m["reason_code"]) if m["reason_code"] else None
    m["kind"] = AuditKind(m["kind"])
    return AuditEntry(**m)


class SqlAccessRevoker:
    """Ends a user's sessions, tokens and pending invitations, counting each."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def revoke(self, workspace_id: str, user_ids: Sequence[str], now: datetime) -> Revoked:
        counted = Revoked()
        for chunk in _chunks(list(user_ids), ID_SET):
            whose = among(self.conn, chunk)  # the chunk's ids bound once for the four UPDATEs
            counted += Revoked(**_Writes.of(_revocations(workspace_id, whose, now)).run(self.conn))
        return counted


_SESSION_KINDS = ("session", "api_session")


def _revocations(workspace_id: Any, whose: Callable[[Any], Any], now: Any) -> list[tuple[str, Any]]:
    """The UPDATEs ending the access of the users `whose(user id column)` selects,
    named as Revoked counts them (`workspace_id` and `now` values or bind parameters)."""
    kinds = credentials.c.kind.in_(_SESSION_KINDS)
    live = (
        credentials.c.workspace_id == workspace_id,
        whose(credentials.c.user_id),
        credentials.c.revoked_at.is_(None),
    )
    rules = automation_rules.c  # personal automations stop with their owner
    return [
        ("sessions", update(credentials).where(*live, kinds).values(revoked_at=now)),
        ("tokens", update(credentials).where(*live, ~kinds).values(revoked_at=now)),
        (
            "invitations",
            update(invitations)
            .where(
                invitations.c.workspace_id == workspace_id,
                whose(invitations.c.invited_by),
                invitations.c.accepted_at.is_(None),
                invitations.c.revoked_at.is_(None),
            )
            .values(revoked_at=now),
        ),
        (
            "automations",
            update(automation_rules)
            .where(
                rules.workspace_id == workspace_id,
                whose(rules.owner_user_id),
                rules.enabled.is_(True),
            )
            .values(enabled=False, next_run_at=None, disabled_reason="Its owner left Active."),
        ),
    ]


class _Writes:
    """Named INSERT/UPDATE statements run together, each row count by name. On
    PostgreSQL in ONE round trip: each a data-modifying CTE (all run on one
    snapshot, so they must touch disjoint rows), counted by the main SELECT, built
    when first run there. On SQLite (in-process: a statement costs no round trip)
    one after the other."""

    __slots__ = ("_together", "each", "names")

    def __init__(self, names: tuple[str, ...], each: tuple[Any, ...]) -> None:
        self.names, self.each = names, each
        self._together: Any = None

    @classmethod
    def of(cls, writes: Sequence[tuple[str, Any]]) -> "_Writes":
        return cls(tuple(n for n, _ in writes), tuple(w for _, w in writes))

    def together(self) -> Any:
        if self._together is None:
            ctes = [
                w.returning(literal_column("1")).cte(f"w_{name}")
                for name, w in zip(self.names, self.each, strict=True)
            ]
            self._together = select(
                *(select(func.count()).select_from(c).scalar_subquery() for c in ctes)
            )
        return self._together

    def run(self, conn: Connection, params: dict[str, Any] | None = None) -> dict[str, int]:
        if conn.dialect.name == "postgresql":
            counts = tuple(conn.execute(self.together(), params).one())
        else:
            counts = tuple(conn.execute(w, params).rowcount for w in self.each)
        return dict(zip(self.names, counts, strict=True))


class SqlOutbox:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self, workspace_id: str, topic: str, payloads: Iterable[dict[str, Any]], now: datetime
    ) -> None:
        rows = [
            {
                "workspace_id": workspace_id,
                "id": new_id("msg"),
                "topic": topic,
                "payload": p,
                "created_at": now,
                "attempts": 0,
            }
            for p in payloads
        ]
        if rows:
            self.conn.execute(insert(outbox), rows)
