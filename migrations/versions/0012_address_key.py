"""SCIM userName keys in the one normalisation every route uses (address_key)

Revision ID: 0012_address_key
Revises: 0011_job_leases

`scim_attributes.user_name_key` was the userName lowercased in NFC; it is now
`roster.domain.emails.address_key` (NFKC and case folded, invisible characters
dropped, a trailing dot on the domain dropped), the key API, invitations, imports
and SCIM all compare addresses by. Stored email userNames are already normalized,
so only unusual non-email userNames change. The key is computed by the domain's own
function, not a copy of it: two normalisations are what this migration ends.
"""

import unicodedata
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from roster.domain.emails import address_key

revision: str = "0012_address_key"
down_revision: str | None = "0011_job_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_attributes = sa.table(
    "scim_attributes",
    sa.column("workspace_id", sa.String),
    sa.column("user_id", sa.String),
    sa.column("user_name", sa.String),
    sa.column("user_name_key", sa.String),
)


def _rekey(key_of: Callable[[str], str]) -> None:
    """Give each row the key `key_of` makes of its userName. A key another row of the
    workspace already holds is left as it was (the unique index stays whole; such
    twins predate the rule and an admin resolves them)."""
    conn = op.get_bind()
    a = _attributes.c
    rows = conn.execute(
        sa.select(a.workspace_id, a.user_id, a.user_name, a.user_name_key).order_by(
            a.workspace_id, a.user_id
        )
    ).all()
    held = {(r.workspace_id, r.user_name_key) for r in rows}
    for r in rows:
        key = key_of(r.user_name)[:320]
        if key == r.user_name_key or (r.workspace_id, key) in held:
            continue
        conn.execute(
            sa.update(_attributes)
            .where(a.workspace_id == r.workspace_id, a.user_id == r.user_id)
            .values(user_name_key=key)
        )
        held.discard((r.workspace_id, r.user_name_key))
        held.add((r.workspace_id, key))


def upgrade() -> None:
    _rekey(address_key)


def downgrade() -> None:
    _rekey(lambda v: unicodedata.normalize("NFC", unicodedata.normalize("NFC", v).lower()))
