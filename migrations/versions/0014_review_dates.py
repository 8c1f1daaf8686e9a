"""review dates and expiry: a Blocked user's review date, an account's end, and the
workspace's review days per reason

Revision ID: 0014_review_dates
Revises: 0013_audit_kinds
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_review_dates"
down_revision: str | None = "0013_audit_kinds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("review_by", sa.Date(), nullable=True))
    op.add_column("users", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("workspaces", sa.Column("review_days", sa.JSON(), nullable=True))
    op.create_index(
        "ix_users_workspace_status_review", "users", ["workspace_id", "status", "review_by"]
    )
    op.create_index("ix_users_status_expires", "users", ["status", "expires_at"])
    # Users Blocked before review dates existed are due for review from today.
    op.execute(sa.text("UPDATE users SET review_by = CURRENT_DATE WHERE status = 'blocked'"))


def downgrade() -> None:
    op.drop_index("ix_users_status_expires", table_name="users")
    op.drop_index("ix_users_workspace_status_review", table_name="users")
    op.drop_column("workspaces", "review_days")
    op.drop_column("users", "expires_at")
    op.drop_column("users", "review_by")
