"""sort indexes: users sorted by last sighting walk (workspace_id, last_seen_at, id)

The users page and the API sort by last sighting with id breaking ties; the old
(workspace_id, last_seen_at) index left the tiebreak to a sort, and on PostgreSQL
(NULLS LAST by default) served neither the ascending order, never-seen users first,
nor the descending one, never-seen last.

Revision ID: 0018_sort_indexes
Revises: 0017_user_search
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018_sort_indexes"
down_revision: str | None = "0017_user_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_users_workspace_last_seen_id",
        "users",
        ["workspace_id", "last_seen_at", "id"],
        # NULL (never seen) is the smallest sighting, first ascending, last descending,
        # as SQLite orders it; on PostgreSQL only a NULLS FIRST index serves both ways.
        postgresql_ops={"last_seen_at": "NULLS FIRST"},
    )
    op.drop_index("ix_users_workspace_last_seen", table_name="users")


def downgrade() -> None:
    op.create_index("ix_users_workspace_last_seen", "users", ["workspace_id", "last_seen_at"])
    op.drop_index("ix_users_workspace_last_seen_id", table_name="users")
