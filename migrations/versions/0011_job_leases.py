"""One job runner: a bulk action holds a lease, as an automation run does, and
fails at its first crash, as a run does (no failure count)

Revision ID: 0011_job_leases
Revises: 0010_bulk_actor_role
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_job_leases"
down_revision: str | None = "0010_bulk_actor_role"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bulk_jobs") as batch:
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.drop_column("failures")


def downgrade() -> None:
    with op.batch_alter_table("bulk_jobs") as batch:
        batch.drop_column("lease_until")
        batch.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))
