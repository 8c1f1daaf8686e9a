"""bulk: the active user count when a bulk action's first chunk ran, so its page
says "Active users 772 → 753" as the preview did

Revision ID: 0020_bulk
Revises: 0019_webhooks
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_bulk"
down_revision: str | None = "0019_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bulk_jobs") as batch:
        batch.add_column(sa.Column("active_before", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bulk_jobs") as batch:
        batch.drop_column("active_before")
