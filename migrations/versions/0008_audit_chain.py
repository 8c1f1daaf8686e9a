"""audit hash chain: each event's hash chains onto the previous one of its workspace

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_counts") as batch:
        batch.add_column(sa.Column("audit_head", sa.String(64), nullable=False, server_default=""))
    # A column add is not an UPDATE of rows, so the append-only triggers do not fire.
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("hash", sa.String(64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("hash")
    with op.batch_alter_table("user_counts") as batch:
        batch.drop_column("audit_head")
