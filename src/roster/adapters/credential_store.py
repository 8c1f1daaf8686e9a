"""Credentials in SQL: insert, the one-round-trip check, revoke, list."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, insert, or_, select, update

from roster.adapters.tables import credentials, users, workspaces
from roster.adapters.tokens import same_hash, token_hash, workspace_of
from roster.adapters.users_repo import user_from_row
from roster.domain.credentials import CredentialKind, Principal
from roster.domain.ids import new_id
from roster.domain.transitions import Policy

_CHECK = (
    select(
        credentials.c.id.label("credential_id"),
        credentials.c.kind,
        credentials.c.name.label("credential_name"),
        credentials.c.token_hash,
        credentials.c.user_id.label("credential_user_id"),
        credentials.c.created_at.label("issued_at"),
        credentials.c.expires_at,
        credentials.c.last_used_at,
        workspaces.c.allow_api_unblock,
        workspaces.c.seat_limit,
        *[c for c in users.c if c.key != "password_hash"],
    )
    .select_from(
        credentials.join(workspaces, workspaces.c.id == credentials.c.workspace_id).outerjoin(
            users,
            and_(
                users.c.workspace_id == credentials.c.workspace_id,
                users.c.id == credentials.c.user_id,
            ),
        )
    )
    .where(
        # Built once with bound parameters: building it per call cost more CPU than
        # running it (it is the check behind every authenticated request).
        credentials.c.workspace_id == bindparam("workspace_id"),
        credentials.c.token_hash == bindparam("digest"),
        credentials.c.revoked_at.is_(None),
        or_(
            credentials.c.expires_at.is_(None),
            credentials.c.expires_at > bindparam("now", type_=credentials.c.expires_at.type),
        ),
        or_(credentials.c.user_id.is_(None), users.c.status == "active"),
    )
)


@dataclass(frozen=True, slots=True)
class Checked:
    """A live credential: who it speaks for, and the credential's own dates."""

    principal: Principal
    issued_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


def check(conn: Connection, token: str, now: datetime) -> Principal | None:
    """The live credential behind `token`, with its user as they are now, in one query.

    Revoked, expired and unknown tokens, and tokens of a user who is not Active,
    all answer None: nothing cached can outlive a status change.
    """
    found = lookup(conn, token, now)
    return found.principal if found else None


def lookup(conn: Connection, token: str, now: datetime) -> Checked | None:
    """`check`, also giving the credential's dates (introspection, last-used stamps)."""
    workspace_id = workspace_of(token)
    if workspace_id is None:
        return None
    digest = token_hash(token)
    row: Row[Any] | None = conn.execute(  # type: ignore[assignment]
        _CHECK, {"workspace_id": workspace_id, "digest": digest, "now": now}
    ).first()
    if row is None or not same_hash(row.token_hash, digest):
        return None
    user = user_from_row(row) if row.credential_user_id else None
    principal = Principal(
        workspace_id=workspace_id,
        credential_id=row.credential_id,
        kind=CredentialKind(row.kind),
        name=row.credential_name,
        user=user,
        policy=Policy(row.allow_api_unblock, row.seat_limit),
        last_seen_at=row.last_seen_at,
        created_at=row.created_at,
    )
    return Checked(principal, row.issued_at, row.expires_at, row.last_used_at)


def touch(conn: Connection, principal: Principal, now: datetime) -> None:
    """Stamp the credential's last use and its user's last sighting.

    The user row first, then the credential: the order a status change locks them
    in (it revokes the credentials of the user row it holds), so the two never
    deadlock (they did, under the stress run on PostgreSQL)."""
    if principal.user is not None:
        conn.execute(
            update(users)
            .where(users.c.workspace_id == principal.workspace_id, users.c.id == principal.user.id)
            .values(last_seen_at=now)
        )
    conn.execute(
        update(credentials)
        .where(
            credentials.c.workspace_id == principal.workspace_id,
            credentials.c.id == principal.credential_id,
        )
        .values(last_used_at=now)
    )


class SqlCredentials:
    """Credentials in SQL (the `CredentialRepository` port): tokens stored by their hash."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        *,
        workspace_id: str,
        kind: CredentialKind,
        token: str,
        user_id: str | None,
        name: str | None,
        now: datetime,
        expires_at: datetime | None,
    ) -> str:
        credential_id = new_id("crd")
        self.conn.execute(
            insert(credentials).values(
                workspace_id=workspace_id,
                id=credential_id,
                kind=kind.value,
                name=name,
                user_id=user_id,
                token_hash=token_hash(token),
                created_at=now,
                expires_at=expires_at,
            )
        )
        return credential_id

    def revoke(
        self, *, workspace_id: str, credential_id: str, now: datetime
    ) -> tuple[CredentialKind, str | None] | None:
        """Revoke a live credential: its kind and owner, or None if none was live."""
        row = self.conn.execute(
            update(credentials)
            .where(
                credentials.c.workspace_id == workspace_id,
                credentials.c.id == credential_id,
                credentials.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
            .returning(credentials.c.kind, credentials.c.user_id)
        ).first()
        return None if row is None else (CredentialKind(row.kind), row.user_id)


def list_tokens(
    conn: Connection, workspace_id: str, *, before: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """API tokens of a workspace (not sessions), newest first (ids sort by time), below
    the id `before`; never their secrets."""
    c = credentials.c
    query = (
        select(
            credentials.c.id,
            credentials.c.kind,
            credentials.c.name,
            credentials.c.user_id,
            credentials.c.created_at,
            credentials.c.expires_at,
            credentials.c.revoked_at,
            credentials.c.last_used_at,
        )
        .where(
            credentials.c.workspace_id == workspace_id,
            credentials.c.kind.in_(["personal", "service", "scim"]),
        )
        .order_by(credentials.c.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(c.id < before)
    return [dict(r._mapping) for r in conn.execute(query)]
