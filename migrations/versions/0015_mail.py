"""mail: the emails outbox, password reset links, and the setting that sends status notices

Revision ID: 0015_mail
Revises: 0014_review_dates
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_mail"
down_revision: str | None = "0014_review_dates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "emails",
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("message_key", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("to_address", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_emails_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name="pk_emails"),
        sa.UniqueConstraint("workspace_id", "message_key", name="uq_emails_workspace_message_key"),
    )
    op.create_index("ix_emails_due", "emails", ["status", "id"])
    op.create_table(
        "password_resets",
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("token_hash", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_password_resets_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name="pk_password_resets"),
        sa.UniqueConstraint(
            "workspace_id", "token_hash", name="uq_password_resets_workspace_token_hash"
        ),
    )
    op.create_index(
        "ix_password_resets_workspace_user", "password_resets", ["workspace_id", "user_id"]
    )
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(
            sa.Column(
                "notify_users_on_status_change",
                sa.Boolean(),
                nullable=False,
                server_default=sa.true(),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("notify_users_on_status_change")
    op.drop_index("ix_password_resets_workspace_user", table_name="password_resets")
    op.drop_table("password_resets")
    op.drop_index("ix_emails_due", table_name="emails")
    op.drop_table("emails")
