"""SCIM attributes and groups

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scim_attributes",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("user_name", sa.String(length=320), nullable=False),
        sa.Column("user_name_key", sa.String(length=320), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "user_id"],
            ["users.workspace_id", "users.id"],
            name=op.f("fk_scim_attributes_workspace_id_users"),
        ),
        sa.PrimaryKeyConstraint("workspace_id", "user_id", name=op.f("pk_scim_attributes")),
        sa.UniqueConstraint(
            "workspace_id", "user_name_key", name="uq_scim_attributes_user_name_key"
        ),
    )
    with op.batch_alter_table("scim_attributes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scim_attributes_workspace_external_id",
            ["workspace_id", "external_id"],
            unique=False,
        )
    op.create_table(
        "scim_groups",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_scim_groups_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_scim_groups")),
    )
    with op.batch_alter_table("scim_groups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scim_groups_workspace_display_name",
            ["workspace_id", "display_name"],
            unique=False,
        )
    op.create_table(
        "scim_group_members",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("group_id", sa.String(length=40), nullable=False),
        sa.Column("member_id", sa.String(length=40), nullable=False),
        sa.Column("member_type", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id", "group_id"],
            ["scim_groups.workspace_id", "scim_groups.id"],
            name=op.f("fk_scim_group_members_workspace_id_scim_groups"),
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "group_id", "member_id", name=op.f("pk_scim_group_members")
        ),
    )
    with op.batch_alter_table("scim_group_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scim_group_members_workspace_member",
            ["workspace_id", "member_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("scim_group_members", schema=None) as batch_op:
        batch_op.drop_index("ix_scim_group_members_workspace_member")
    op.drop_table("scim_group_members")
    with op.batch_alter_table("scim_groups", schema=None) as batch_op:
        batch_op.drop_index("ix_scim_groups_workspace_display_name")
    op.drop_table("scim_groups")
    with op.batch_alter_table("scim_attributes", schema=None) as batch_op:
        batch_op.drop_index("ix_scim_attributes_workspace_external_id")
    op.drop_table("scim_attributes")
