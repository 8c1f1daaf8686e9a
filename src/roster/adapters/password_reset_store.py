"""Password reset links in SQL (the `PasswordResets` port). Every statement names
`workspace_id`; a link is found by its token's hash, never by the token."""

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from roster.adapters.tables import credentials, password_resets

_SESSION_KINDS = ("session", "api_session")


class SqlPasswordResets:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self, *, workspace_id: str, reset_id: str, user_id: str, token_hash: str,
        now: datetime, expires_at: datetime,
    ) -> None:  # fmt: skip
        self.conn.execute(
            insert(password_resets).values(
                workspace_id=workspace_id,
                id=reset_id,
                user_id=user_id,
                token_hash=token_hash,
                created_at=now,
                expires_at=expires_at,
            )
        )

    def live_user(self, workspace_id: str, token_hash: str, now: datetime) -> str | None:
        """The user id behind an unused, unexpired link; its row locked on PostgreSQL."""
        r = password_resets.c
        query = select(r.user_id).where(
            r.workspace_id == workspace_id,
            r.token_hash == token_hash,
            r.used_at.is_(None),
            r.expires_at > now,
        )
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        user_id: str | None = self.conn.execute(query).scalar()
        return user_id

    def finish(self, workspace_id: str, user_id: str, now: datetime) -> int:
        """Spend every live link of the user and end their sessions (their API tokens
        stay); the number of sessions ended."""
        r = password_resets.c
        self.conn.execute(
            update(password_resets)
            .where(r.workspace_id == workspace_id, r.user_id == user_id, r.used_at.is_(None))
            .values(used_at=now)
        )
        c = credentials.c
        ended = self.conn.execute(
            update(credentials)
            .where(
                c.workspace_id == workspace_id,
                c.user_id == user_id,
                c.kind.in_(_SESSION_KINDS),
                c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        return ended.rowcount
