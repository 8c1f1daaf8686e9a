"""A bulk job keeps its actor's role: only an owner's job may change an owner

Revision ID: 0010_bulk_actor_role
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_bulk_actor_role"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bulk_jobs") as batch:
        batch.add_column(sa.Column("actor_role", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bulk_jobs") as batch:
        batch.drop_column("actor_role")
