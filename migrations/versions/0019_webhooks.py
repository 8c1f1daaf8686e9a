"""webhooks: endpoints subscribed to events, their deliveries, and the attempts'
answers; an automation rule's queued webhooks move from the outbox to deliveries

Revision ID: 0019_webhooks
Revises: 0018_sort_indexes
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from roster.adapters.types import UtcDateTime

revision: str = "0019_webhooks"
down_revision: str | None = "0018_sort_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("workspace_id", sa.String(40), primary_key=True),
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("description", sa.String(500), nullable=True),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("secret", sa.String(80), nullable=False),
        sa.Column("previous_secret", sa.String(80), nullable=True),
        sa.Column("previous_secret_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_reason", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
    )
    op.create_table(
        "webhook_messages",
        sa.Column("workspace_id", sa.String(40), primary_key=True),
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("endpoint_id", sa.String(40), nullable=True),
        sa.Column("rule_id", sa.String(40), nullable=True),
        sa.Column("url", sa.String(2000), nullable=True),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
    )
    op.create_index("ix_webhook_messages_due", "webhook_messages", ["next_attempt_at"])
    op.create_index(
        "ix_webhook_messages_workspace_endpoint",
        "webhook_messages",
        ["workspace_id", "endpoint_id", "id"],
    )
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("endpoint_id", sa.String(40), nullable=True))
        batch.add_column(sa.Column("response", sa.Text(), nullable=True))
    _move_rule_webhooks()


def _move_rule_webhooks() -> None:
    """The rules' webhooks still waiting in the outbox become deliveries, keeping
    their ids (the webhook-id receivers may have seen) and attempt counts."""
    conn = op.get_bind()
    outbox = sa.table(
        "outbox",
        sa.column("workspace_id"),
        sa.column("id"),
        sa.column("topic"),
        sa.column("payload", sa.JSON()),
        sa.column("created_at", UtcDateTime()),
        sa.column("sent_at"),
        sa.column("attempts"),
        sa.column("next_attempt_at", UtcDateTime()),
    )
    waiting = conn.execute(
        sa.select(outbox).where(outbox.c.topic == "webhook", outbox.c.sent_at.is_(None))
    ).all()
    rows = [
        {
            "workspace_id": r.workspace_id,
            "id": r.id,
            "rule_id": r.payload.get("rule_id"),
            "url": r.payload["url"],
            "event_type": r.payload["type"],
            "body": json.dumps(
                {
                    "type": r.payload["type"],
                    "timestamp": r.created_at.isoformat(),
                    "data": r.payload["data"],
                },
                separators=(",", ":"),
            ),
            "state": "pending" if r.attempts < 8 else "failed",
            "attempts": r.attempts,
            "next_attempt_at": (r.next_attempt_at or r.created_at) if r.attempts < 8 else None,
            "created_at": r.created_at,
        }
        for r in waiting
    ]
    plain = ("workspace_id", "id", "rule_id", "url", "event_type", "body", "state", "attempts")
    messages = sa.table(
        "webhook_messages",
        *(sa.column(name) for name in plain),
        sa.column("next_attempt_at", UtcDateTime()),
        sa.column("created_at", UtcDateTime()),
    )
    if rows:
        conn.execute(sa.insert(messages), rows)
    conn.execute(sa.delete(outbox).where(outbox.c.topic == "webhook"))


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("response")
        batch.drop_column("endpoint_id")
    op.drop_index("ix_webhook_messages_workspace_endpoint", "webhook_messages")
    op.drop_index("ix_webhook_messages_due", "webhook_messages")
    op.drop_table("webhook_messages")
    op.drop_table("webhook_endpoints")
