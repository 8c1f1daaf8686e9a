"""The outbox in SQL (the `Outbox` port): messages written in the transaction
that caused them, delivered after commit."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from roster.adapters.tables import outbox
from roster.domain.ids import new_id


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
