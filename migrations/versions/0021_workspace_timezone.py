"""workspace time zone: editable from now on, so the column defaults to UTC in the
database too and a stored name that zoneinfo does not know becomes UTC

Revision ID: 0021_workspace_timezone
Revises: 0020_bulk
"""

from collections.abc import Sequence
from zoneinfo import available_timezones

import sqlalchemy as sa
from alembic import op

revision: str = "0021_workspace_timezone"
down_revision: str | None = "0020_bulk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuilds_workspaces() -> bool:
    """SQLite changes a column's default only by rebuilding the table, and the
    workspaces table, which every other table references, cannot be dropped with
    foreign keys on (inside the migration's transaction they cannot be turned off).
    There the default stays the application's (tables.py): nothing inserts a
    workspace without going through it."""
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if not _rebuilds_workspaces():
        op.alter_column(
            "workspaces",
            "timezone",
            existing_type=sa.String(length=64),
            existing_nullable=False,
            server_default="UTC",
        )
    # Billing cuts days at the zone's midnights: a name it cannot read would fail
    # every report of that workspace, so such a name is read as what it meant, UTC.
    conn = op.get_bind()
    known = available_timezones() | {"UTC"}
    stored = conn.execute(sa.text("SELECT DISTINCT timezone FROM workspaces")).scalars()
    for name in [n for n in stored if n not in known]:
        conn.execute(
            sa.text("UPDATE workspaces SET timezone = 'UTC' WHERE timezone = :name"),
            {"name": name},
        )


def downgrade() -> None:
    if not _rebuilds_workspaces():
        op.alter_column(
            "workspaces",
            "timezone",
            existing_type=sa.String(length=64),
            existing_nullable=False,
            server_default=None,
        )
