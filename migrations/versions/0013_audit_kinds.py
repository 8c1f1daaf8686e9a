"""audit kinds: admin actions join the status events in the chain

Revision ID: 0013_audit_kinds
Revises: 0012_address_key
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_audit_kinds"
down_revision: str | None = "0012_address_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite rebuilds the table to relax NOT NULL, and the rebuild drops its triggers:
# the append-only guard of 0001 is put back, as it was.
SQLITE_AUDIT_GUARD = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_events_no_{verb.lower()} BEFORE {verb}
    ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: {verb} refused');
    END"""
    for verb in ("UPDATE", "DELETE")
]


def upgrade() -> None:
    # Adding columns and relaxing NOT NULL update no rows, so on PostgreSQL the
    # append-only trigger does not fire; existing events are of kind "status".
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("kind", sa.String(40), nullable=False, server_default="status"))
        batch.add_column(sa.Column("changes", sa.JSON(), nullable=True))
        batch.alter_column("user_id", existing_type=sa.String(40), nullable=True)
        batch.alter_column("to_status", existing_type=sa.String(16), nullable=True)
        batch.alter_column(
            "request_id", existing_type=sa.String(64), type_=sa.String(128), nullable=True
        )
    _guard_sqlite()


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column(
            "request_id", existing_type=sa.String(128), type_=sa.String(64), nullable=True
        )
        batch.drop_column("changes")
        batch.drop_column("kind")
    _guard_sqlite()


def _guard_sqlite() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_AUDIT_GUARD:
            op.execute(statement)
