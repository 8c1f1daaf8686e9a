"""SQL implementations of the service ports, on SQLAlchemy Core.

Every statement names `workspace_id`: no query crosses workspaces.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from roster.adapters.batch_sql import bind_value, ids_in, insert_rows
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
from roster.domain.audit import Attempt, AuditEntry, chain_attempts
from roster.domain.ids import new_id, new_ids
from roster.domain.users import User
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
        found = self._select(workspace_id, users.c.id == user_id, lock=True)
        return found[0] if found else None

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

    def save_statuses(self, changed: Sequence[User]) -> None:
        """One UPDATE per group of users that share the same new status fields
        (a bulk action's chunk is one group), instead of one per user."""
        groups: dict[tuple[Any, ...], list[tuple[str, int]]] = {}
        for u in changed:
            key = (
                u.status,
                u.status_reason,
                u.status_note,
                u.status_changed_at,
                u.status_changed_by,
            )
            groups.setdefault(key, []).append((u.id, u.version))
        for (status, reason, note, at, by), members in groups.items():
            self.set_status(
                changed[0].workspace_id,
                [m[0] for m in members],
                status=status,
                reason_code=reason,
                note=note,
                at=at,
                by=by,
            )

    def set_status(
        self,
        workspace_id: str,
        user_ids: Sequence[str],
        *,
        status: Status,
        reason_code: ReasonCode | None,
        note: str | None,
        at: datetime | None,
        by: str | None,
    ) -> None:
        """Give `user_ids` the same new status fields, bumping each one's version."""
        values = dict(zip(_STATUS_COLUMNS[:-1], (status, reason_code, note, at, by), strict=True))
        for chunk in _chunks(user_ids, ID_SET):
            self.conn.execute(
                update(users)
                .where(users.c.workspace_id == workspace_id, ids_in(self.conn, users.c.id, chunk))
                .values(**values, version=users.c.version + 1)
            )

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
        query = select(
            user_counts.c.active,
            user_counts.c.inactive,
            user_counts.c.blocked,
            user_counts.c.active_owners,
        ).where(user_counts.c.workspace_id == workspace_id)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return UserCounts(*row) if row else UserCounts()

    def add(self, workspace_id: str, delta: UserCounts) -> None:
        if delta == UserCounts():
            return
        c = user_counts.c
        self.conn.execute(
            update(user_counts)
            .where(c.workspace_id == workspace_id)
            .values(
                active=c.active + delta.active,
                inactive=c.inactive + delta.inactive,
                blocked=c.blocked + delta.blocked,
                active_owners=c.active_owners + delta.active_owners,
            )
        )


class SqlAuditLog:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, entries: Sequence[AuditEntry]) -> None:
        """Append entries with the workspace's next sequence numbers, each hashed onto
        the one before."""
        if entries:
            self._append(
                entries[0].workspace_id,
                [e.id for e in entries],
                [(e.user_id, e.from_status, Attempt.of(e)) for e in entries],
            )

    def add_attempts(
        self, workspace_id: str, entries: Sequence[tuple[str, Status | None, Attempt]]
    ) -> None:
        """`add` for a batch: (user id, from status, attempt) each, the attempts shared
        by the entries alike; the entries get new ids."""
        if entries:
            self._append(workspace_id, new_ids("evt", len(entries)), entries)

    def _append(
        self,
        workspace_id: str,
        ids: Sequence[str],
        entries: Sequence[tuple[str, Status | None, Attempt]],
    ) -> None:
        """Reserving the sequence numbers updates the counter row (the workspace lock),
        so the order of seq is the order of commits and the chain has no forks."""
        c = user_counts.c
        last, head = self.conn.execute(
            update(user_counts)
            .where(c.workspace_id == workspace_id)
            .values(audit_seq=c.audit_seq + len(entries))
            .returning(c.audit_seq, c.audit_head)
        ).one()
        first = last - len(entries) + 1
        hashes = chain_attempts(head, workspace_id, first, ids, entries)
        shared: dict[int, tuple[Any, ...]] = {}  # by id(): a batch shares a few attempts
        rows = []
        for seq, entry_id, (user_id, from_status, a), digest in zip(
            range(first, last + 1), ids, entries, hashes, strict=True
        ):
            common = shared.get(id(a)) or shared.setdefault(id(a), self._values(a))
            rows.append(
                (
                    workspace_id,
                    entry_id,
                    seq,
                    user_id,
                    _STATUS_VALUES.get(from_status),
                    *common,
                    digest,
                )
            )
        insert_rows(self.conn, audit_events, _AUDIT_COLUMNS, rows, bound=True)
        self.conn.execute(
            update(user_counts).where(c.workspace_id == workspace_id).values(audit_head=hashes[-1])
        )

    def _values(self, a: Attempt) -> tuple[Any, ...]:
        """An attempt's columns, in `_AUDIT_COLUMNS` order (to_status … batch_id), bound."""
        return (
            a.to_status.value,
            a.route.value,
            a.actor_id,
            a.actor_name,
            a.reason_code.value if a.reason_code else None,
            a.note,
            bind_value(self.conn, audit_events.c.at, a.at),
            a.outcome,
            a.request_id,
            a.batch_id,
        )

    def for_user(self, workspace_id: str, user_id: str) -> list[AuditEntry]:
        rows = self.conn.execute(
            select(audit_events)
            .where(
                audit_events.c.workspace_id == workspace_id,
                audit_events.c.user_id == user_id,
            )
            .order_by(audit_events.c.seq)
        )
        return [audit_from_row(r) for r in rows]


_AUDIT_COLUMNS = (
    "workspace_id",
    "id",
    "seq",
    "user_id",
    "from_status",
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
    "hash",
)


def audit_from_row(row: Row[Any]) -> AuditEntry:
    m = dict(row._mapping)
    m["from_status"] = Status(m["from_status"]) if m["from_status"] else None
    m["to_status"] = Status(m["to_status"])
    m["route"] = Route(m["route"])
    m["reason_code"] = ReasonCode(m["reason_code"]) if m["reason_code"] else None
    return AuditEntry(**m)


class SqlAccessRevoker:
    """Ends a user's sessions, tokens and pending invitations, counting each."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def revoke(self, workspace_id: str, user_ids: Sequence[str], now: datetime) -> Revoked:
        sessions = tokens = invites = automations = 0
        for chunk in _chunks(list(user_ids), ID_SET):
            for kind_is_session in (True, False):
                kinds = credentials.c.kind.in_(("session", "api_session"))
                result = self.conn.execute(
                    update(credentials)
                    .where(
                        credentials.c.workspace_id == workspace_id,
                        ids_in(self.conn, credentials.c.user_id, chunk),
                        credentials.c.revoked_at.is_(None),
                        kinds if kind_is_session else ~kinds,
                    )
                    .values(revoked_at=now)
                )
                if kind_is_session:
                    sessions += result.rowcount
                else:
                    tokens += result.rowcount
            invites += self.conn.execute(
                update(invitations)
                .where(
                    invitations.c.workspace_id == workspace_id,
                    ids_in(self.conn, invitations.c.invited_by, chunk),
                    invitations.c.accepted_at.is_(None),
                    invitations.c.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            ).rowcount
            rules = automation_rules.c  # personal automations stop with their owner
            automations += self.conn.execute(
                update(automation_rules)
                .where(
                    rules.workspace_id == workspace_id,
                    ids_in(self.conn, rules.owner_user_id, chunk),
                    rules.enabled.is_(True),
                )
                .values(enabled=False, next_run_at=None, disabled_reason="Its owner left Active.")
            ).rowcount
        return Revoked(
            sessions=sessions, tokens=tokens, invitations=invites, automations=automations
        )


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
