"""Invitations in SQL (the `InvitationRepository` port). Every statement names `workspace_id`."""

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from roster.adapters.tables import invitations as inv
from roster.domain.invitations import Invitation
from roster.domain.vocabulary import Role

_COLUMNS = [c for c in inv.c if c.key != "token_hash"]


def _invitation(row: Row[Any]) -> Invitation:
    m = dict(row._mapping)
    m["role"] = Role(m["role"])
    return Invitation(**m)


def _live(workspace_id: str, now: datetime) -> list[Any]:
    return [
        inv.c.workspace_id == workspace_id,
        inv.c.accepted_at.is_(None),
        inv.c.revoked_at.is_(None),
        inv.c.expires_at > now,
    ]


class SqlInvitations:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, invitation: Invitation, token_hash: str) -> None:
        fields = {f: getattr(invitation, f) for f in invitation.__slots__}
        self.conn.execute(insert(inv).values(**fields, token_hash=token_hash))

    def live_by_hash(
        self, workspace_id: str, token_hash: str, now: datetime, *, lock: bool = False
    ) -> Invitation | None:
        """The pending invitation behind a token hash; locked until commit when asked."""
        query = select(*_COLUMNS).where(*_live(workspace_id, now), inv.c.token_hash == token_hash)
        if lock and self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return _invitation(row) if row else None

    def live_by_id(self, workspace_id: str, invitation_id: str, now: datetime) -> Invitation | None:
        """The pending invitation with this id."""
        query = select(*_COLUMNS).where(*_live(workspace_id, now), inv.c.id == invitation_id)
        row = self.conn.execute(query).first()
        return _invitation(row) if row else None

    def mark_accepted(self, invitation: Invitation, now: datetime) -> None:
        self.conn.execute(
            update(inv)
            .where(inv.c.workspace_id == invitation.workspace_id, inv.c.id == invitation.id)
            .values(accepted_at=now)
        )

    def revoke(self, workspace_id: str, invitation_id: str, now: datetime) -> bool:
        """Revoke one pending invitation; False when there is none by that id."""
        result = self.conn.execute(
            update(inv)
            .where(*_live(workspace_id, now), inv.c.id == invitation_id)
            .values(revoked_at=now)
        )
        return result.rowcount == 1

    def revoke_for_email(self, workspace_id: str, email: str, now: datetime) -> int:
        """Revoke the pending invitations of one email (a new one replaces them)."""
        revoked = update(inv).where(*_live(workspace_id, now), inv.c.email == email)
        return self.conn.execute(revoked.values(revoked_at=now)).rowcount

    def page(self, workspace_id: str, *, after: str | None, limit: int) -> list[Invitation]:
        """Invitations newest first (ids sort by time), after the cursor `after`."""
        query = select(*_COLUMNS).where(inv.c.workspace_id == workspace_id)
        if after:
            query = query.where(inv.c.id < after)
        rows = self.conn.execute(query.order_by(inv.c.id.desc()).limit(limit))
        return [_invitation(r) for r in rows]
