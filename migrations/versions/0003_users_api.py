"""users API and dashboard: indexes for the sort orders of user lists

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_users_workspace_name_id", "users", ["workspace_id", "name", "id"])
    op.create_index("ix_users_workspace_created_id", "users", ["workspace_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_users_workspace_created_id", table_name="users")
    op.drop_index("ix_users_workspace_name_id", table_name="users")
