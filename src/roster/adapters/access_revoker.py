"""Ending users' access in SQL (the `AccessRevoker` port): sessions, tokens,
pending invitations they sent and their personal automations."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update

from roster.adapters.batch_sql import ID_SET, Writes, among, chunks
from roster.adapters.tables import automation_rules, credentials, invitations
from roster.domain.access import Revoked


class SqlAccessRevoker:
    """Ends a user's sessions, tokens and pending invitations, counting each."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def revoke(self, workspace_id: str, user_ids: Sequence[str], now: datetime) -> Revoked:
        counted = Revoked()
        for chunk in chunks(list(user_ids), ID_SET):
            whose = among(self.conn, chunk)  # the chunk's ids bound once for the four UPDATEs
            counted += Revoked(**Writes.of(_revocations(workspace_id, whose, now)).run(self.conn))
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
