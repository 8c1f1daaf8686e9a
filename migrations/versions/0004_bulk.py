"""bulk action jobs and results

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _job_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id", "job_id"],
        ["bulk_jobs.workspace_id", "bulk_jobs.id"],
        name=op.f(f"fk_{table}_workspace_id_bulk_jobs"),
    )


def _counter(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "bulk_jobs",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("selection", sa.JSON(), nullable=False),
        sa.Column("actor_id", sa.String(length=40), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("actor_user_id", sa.String(length=40), nullable=True),
        _counter("total"),
        _counter("processed"),
        _counter("applied"),
        _counter("unchanged"),
        _counter("refused"),
        sa.Column("refused_codes", sa.JSON(), nullable=False),
        _counter("active_delta"),
        _counter("owners_delta"),
        _counter("revoked_sessions"),
        _counter("revoked_tokens"),
        _counter("revoked_invitations"),
        sa.Column("cursor", sa.String(length=40), nullable=True),
        _counter("chunks"),
        sa.Column("worker", sa.String(length=200), nullable=True),
        _counter("failures"),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_bulk_jobs_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_bulk_jobs")),
        sa.UniqueConstraint(
            "workspace_id", "idempotency_key", name="uq_bulk_jobs_workspace_idempotency_key"
        ),
    )
    with op.batch_alter_table("bulk_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_bulk_jobs_state_created", ["state", "created_at"], unique=False)
    op.create_table(
        "bulk_job_targets",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("job_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        _job_fk("bulk_job_targets"),
        sa.PrimaryKeyConstraint(
            "workspace_id", "job_id", "user_id", name=op.f("pk_bulk_job_targets")
        ),
    )
    op.create_table(
        "bulk_results",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("job_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        _job_fk("bulk_results"),
        sa.PrimaryKeyConstraint("workspace_id", "job_id", "user_id", name=op.f("pk_bulk_results")),
    )


def downgrade() -> None:
    op.drop_table("bulk_results")
    op.drop_table("bulk_job_targets")
    with op.batch_alter_table("bulk_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_bulk_jobs_state_created")
    op.drop_table("bulk_jobs")
