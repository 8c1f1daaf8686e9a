"""SQLAlchemy tables. Every table carries `workspace_id`, and every primary, unique
and foreign key includes it, so the schema distributes by workspace (Citus) unchanged.
"""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from roster.adapters.types import UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

ID = 40  # length of our opaque ids


workspaces = Table(
    "workspaces",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("allow_api_unblock", Boolean, nullable=False, default=False),
    Column("reactivate_on_sign_in", Boolean, nullable=False, default=False),
    Column("seat_limit", Integer, nullable=True),
    Column("timezone", String(64), nullable=False, default="UTC"),
    Column("created_at", UtcDateTime(), nullable=False),
)

# The exact per-workspace headcount, changed in the same transaction as every
# status or role change. Its row is also the workspace's write lock.
user_counts = Table(
    "user_counts",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("active", Integer, nullable=False, default=0),
    Column("inactive", Integer, nullable=False, default=0),
    Column("blocked", Integer, nullable=False, default=0),
    Column("active_owners", Integer, nullable=False, default=0),
    # The last audit sequence number handed out: audit order is the order of commits.
    Column("audit_seq", BigInteger, nullable=False, default=0),
    Column("audit_head", String(64), nullable=False, default=""),  # hash of the last event
    ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
)

users = Table(
    "users",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("id", String(ID), primary_key=True),
    Column("email", String(320), nullable=False),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("status_reason", String(32), nullable=True),
    Column("status_note", Text, nullable=True),
    Column("status_changed_at", UtcDateTime(), nullable=True),
    Column("status_changed_by", String(200), nullable=True),
    Column("password_hash", String(200), nullable=True),
    Column("last_seen_at", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("version", Integer, nullable=False, default=1),
    ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
    UniqueConstraint("workspace_id", "email", name="uq_users_workspace_email"),
    Index("ix_users_workspace_status_id", "workspace_id", "status", "id"),
    Index("ix_users_workspace_last_seen", "workspace_id", "last_seen_at"),
)

# Append-only: no code path updates or deletes a row; on PostgreSQL a trigger refuses it.
audit_events = Table(
    "audit_events",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("id", String(ID), primary_key=True),
    Column("seq", BigInteger, nullable=False),  # per workspace, gapless, in commit order
    Column("user_id", String(ID), nullable=False),
    Column("from_status", String(16), nullable=True),  # null: the user was created
    Column("to_status", String(16), nullable=False),
    Column("route", String(16), nullable=False),
    Column("actor_id", String(ID), nullable=True),
    Column("actor_name", String(200), nullable=False),
    Column("reason_code", String(32), nullable=True),
    Column("note", Text, nullable=True),
    Column("request_id", String(64), nullable=True),
    Column("batch_id", String(ID), nullable=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("outcome", String(32), nullable=False),  # "applied" or the refusal's code
    Column("hash", String(64), nullable=False, default=""),  # chained per workspace, by seq
    ForeignKeyConstraint(["workspace_id", "user_id"], ["users.workspace_id", "users.id"]),
    UniqueConstraint("workspace_id", "seq", name="uq_audit_events_workspace_seq"),
    Index("ix_audit_events_workspace_user", "workspace_id", "user_id", "seq"),
    Index("ix_audit_events_workspace_at", "workspace_id", "at"),
    Index("ix_audit_events_workspace_batch", "workspace_id", "batch_id"),
)

# Sessions and API tokens. Only a hash of the secret is stored.
credentials = Table(
    "credentials",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("id", String(ID), primary_key=True),
    Column("kind", String(16), nullable=False),  # session, api_session, personal, service, scim
    Column("name", String(200), nullable=True),
    Column("user_id", String(ID), nullable=True),
    Column("token_hash", String(128), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("last_used_at", UtcDateTime(), nullable=True),
    ForeignKeyConstraint(["workspace_id", "user_id"], ["users.workspace_id", "users.id"]),
    UniqueConstraint("workspace_id", "token_hash", name="uq_credentials_workspace_token_hash"),
    Index("ix_credentials_workspace_user", "workspace_id", "user_id"),
)

invitations = Table(
    "invitations",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("id", String(ID), primary_key=True),
    Column("email", String(320), nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(128), nullable=False),
    Column("invited_by", String(ID), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("accepted_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
    ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
    UniqueConstraint("workspace_id", "token_hash", name="uq_invitations_workspace_token_hash"),
    Index("ix_invitations_workspace_invited_by", "workspace_id", "invited_by"),
)

# Transactional outbox: rows written with the change, sent after commit.
outbox = Table(
    "outbox",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("id", String(ID), primary_key=True),
    Column("topic", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
    Index("ix_outbox_unsent", "sent_at", "created_at"),
)
