"""automation rules, runs and outcomes

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=40)


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "automation_rules",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("trigger", sa.JSON(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("action", sa.JSON(), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=True),
        sa.Column("owner_user_id", ID, nullable=True),
        sa.Column("webhook_secret", sa.String(length=80), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        _when("next_run_at", nullable=True),
        sa.Column("disabled_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id", "owner_user_id"],
            ["users.workspace_id", "users.id"],
            name=op.f("fk_automation_rules_workspace_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_automation_rules_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_automation_rules")),
    )
    with op.batch_alter_table("automation_rules") as batch:
        batch.create_index("ix_automation_rules_due", ["next_run_at"])
        batch.create_index("ix_automation_rules_workspace_event", ["workspace_id", "event"])
        batch.create_index("ix_automation_rules_workspace_owner", ["workspace_id", "owner_user_id"])

    op.create_table(
        "automation_runs",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("rule_id", ID, nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=True),
        sa.Column("event_id", ID, nullable=True),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("cursor", ID, nullable=True),
        sa.Column("holder", sa.String(length=64), nullable=True),
        _when("lease_until", nullable=True),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("applied", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("active_delta", sa.Integer(), nullable=False),
        _when("started_at"),
        _when("finished_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id", "rule_id"],
            ["automation_rules.workspace_id", "automation_rules.id"],
            name=op.f("fk_automation_runs_workspace_id_automation_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_automation_runs")),
    )
    with op.batch_alter_table("automation_runs") as batch:
        batch.create_index("ix_automation_runs_state", ["state", "lease_until"])
        batch.create_index(
            "ix_automation_runs_workspace_rule", ["workspace_id", "rule_id", "started_at"]
        )

    op.create_table(
        "automation_outcomes",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id", "run_id"],
            ["automation_runs.workspace_id", "automation_runs.id"],
            name=op.f("fk_automation_outcomes_workspace_id_automation_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "run_id", "user_id", name=op.f("pk_automation_outcomes")
        ),
    )
    with op.batch_alter_table("automation_outcomes") as batch:
        batch.create_index("ix_automation_outcomes_workspace_user", ["workspace_id", "user_id"])

    op.create_table(
        "webhook_deliveries",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("rule_id", ID, nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _when("at"),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_webhook_deliveries_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.create_index(
            "ix_webhook_deliveries_workspace_message", ["workspace_id", "message_id"]
        )
        batch.create_index(
            "ix_webhook_deliveries_workspace_rule", ["workspace_id", "rule_id", "at"]
        )

    op.create_table(
        "automation_cursors",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_automation_cursors_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_automation_cursors")),
    )

    with op.batch_alter_table("outbox") as batch:
        batch.add_column(_when("next_attempt_at", nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("next_attempt_at")
    op.drop_table("automation_cursors")
    op.drop_table("webhook_deliveries")
    op.drop_table("automation_outcomes")
    op.drop_table("automation_runs")
    op.drop_table("automation_rules")
