"""SQLAlchemy tables. Every table carries `workspace_id`, and every primary, unique
and foreign key includes it, so the schema distributes by workspace (Citus) unchanged.
"""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
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
    Column("timezone", String(64), nullable=False, default="UTC", server_default="UTC"),
    Column("created_at", UtcDateTime(), nullable=False),
    # Days from a block to its review, per reason code; null: the defaults.
    Column("review_days", JSON, nullable=True),
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
    Column("review_by", Date, nullable=True),  # a Blocked user's review date
    Column("expires_at", UtcDateTime(), nullable=True),  # when the account ends
    ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
    UniqueConstraint("workspace_id", "email", name="uq_users_workspace_email"),
    Index("ix_users_workspace_status_id", "workspace_id", "status", "id"),
    # The review queue: a workspace's Blocked users by review date, one range scan.
    Index("ix_users_workspace_status_review", "workspace_id", "status", "review_by"),
    # The expiry tick: the Active and Blocked accounts whose end has come, across
    # workspaces (expired Inactive ones keep their date but are not read again).
    Index("ix_users_status_expires", "status", "expires_at"),
)

# Append-only: no code path updates or deletes a row; on PostgreSQL a trigger refuses it.
audit_events = Table(
    "audit_events",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("id", String(ID), primary_key=True),
    Column("seq", BigInteger, nullable=False),  # per workspace, gapless, in commit order
    Column("user_id", String(ID), nullable=True),  # null: an action on the workspace
    Column("from_status", String(16), nullable=True),  # null: the user was created
    Column("to_status", String(16), nullable=True),  # null: an admin action
    Column("route", String(16), nullable=False),
    Column("actor_id", String(ID), nullable=True),
    Column("actor_name", String(200), nullable=False),
    Column("reason_code", String(32), nullable=True),
    Column("note", Text, nullable=True),
    Column("request_id", String(128), nullable=True),
    Column("batch_id", String(ID), nullable=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("outcome", String(32), nullable=False),  # "applied" or the refusal's code
    Column("hash", String(64), nullable=False, default=""),  # chained per workspace, by seq
    # "status", or the admin action (domain.audit.AuditKind) with its changed fields
    Column("kind", String(40), nullable=False, server_default="status"),
    Column("changes", JSON, nullable=True),  # {"field": [before, after]}; never a secret
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


# --- Access: sign-in throttles, and what invitations need beyond the foundation ---

# Failed sign-ins, counted per account and per client address, in the database so
# that every server process sees the same counts. A throttle is not a status: it
# never touches `users`. `workspace_id` is the target workspace's id ("?" when the
# slug named none); `key` is "account:<email>" or "address:<ip>".
sign_in_throttles = Table(
    "sign_in_throttles",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("key", String(400), primary_key=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("window_started_at", UtcDateTime(), nullable=False),
    Column("blocked_until", UtcDateTime(), nullable=True),
)

# The invitee's name, filled in as the user's name when the invitation creates them.
invitations.append_column(Column("name", String(200), nullable=True))
Index("ix_invitations_workspace_email", invitations.c.workspace_id, invitations.c.email)


# --- Bulk actions: jobs, the ids they name, and one result per user ---

# A bulk action as a resumable job. `cursor` is the last user id whose result is
# committed; it moves in the same transaction as the chunk's changes, so a restart
# resumes exactly after the last committed chunk.
bulk_jobs = Table(
    "bulk_jobs",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("id", String(ID), primary_key=True),  # also the audit events' batch id
    Column("idempotency_key", String(200), nullable=True),
    Column("fingerprint", String(64), nullable=False),  # of the request, for key reuse
    Column("state", String(16), nullable=False),  # queued, running, done, failed
    Column("dry_run", Boolean, nullable=False, default=False),
    Column("to_status", String(16), nullable=False),
    Column("reason_code", String(32), nullable=True),
    Column("note", Text, nullable=True),
    Column("selection", JSON, nullable=False),  # {"user_ids": n} or {"filter": {...}}
    Column("actor_id", String(ID), nullable=True),
    Column("actor_name", String(200), nullable=False),
    Column("actor_user_id", String(ID), nullable=True),
    Column("actor_role", String(16), nullable=True),  # the owner rule reads it
    Column("total", Integer, nullable=False),
    Column("processed", Integer, nullable=False, default=0),
    Column("applied", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("refused", Integer, nullable=False, default=0),
    Column("refused_codes", JSON, nullable=False),  # {"user_blocked": n, ...}
    Column("active_delta", Integer, nullable=False, default=0),
    Column("owners_delta", Integer, nullable=False, default=0),
    Column("active_before", Integer, nullable=True),  # when the first chunk ran
    Column("revoked_sessions", Integer, nullable=False, default=0),
    Column("revoked_tokens", Integer, nullable=False, default=0),
    Column("revoked_invitations", Integer, nullable=False, default=0),
    Column("cursor", String(ID), nullable=True),
    Column("chunks", Integer, nullable=False, default=0),
    Column("worker", String(200), nullable=True),  # the runner holding (or last holding) it
    Column("lease_until", UtcDateTime(), nullable=True),  # see services/jobs.py
    Column("error", Text, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("started_at", UtcDateTime(), nullable=True),
    Column("finished_at", UtcDateTime(), nullable=True),
    ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
    UniqueConstraint(
        "workspace_id", "idempotency_key", name="uq_bulk_jobs_workspace_idempotency_key"
    ),
    Index("ix_bulk_jobs_state_created", "state", "created_at"),
)

# The users a job selected by id (a filter job reads `users` instead).
bulk_job_targets = Table(
    "bulk_job_targets",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("job_id", String(ID), primary_key=True),
    Column("user_id", String(ID), primary_key=True),
    ForeignKeyConstraint(["workspace_id", "job_id"], ["bulk_jobs.workspace_id", "bulk_jobs.id"]),
)

# One row per user a job has decided: applied, unchanged, or refused with its code.
# No foreign key to users: an unknown id is a result too (refused: not_found).
bulk_results = Table(
    "bulk_results",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("job_id", String(ID), primary_key=True),
    Column("user_id", String(ID), primary_key=True),
    Column("outcome", String(16), nullable=False),
    Column("code", String(32), nullable=True),
    Column("from_status", String(16), nullable=True),
    ForeignKeyConstraint(["workspace_id", "job_id"], ["bulk_jobs.workspace_id", "bulk_jobs.id"]),
)


# --- SCIM 2.0: what identity providers send beyond Roster's own columns ---

# One row per user an identity provider has written. A user with no row (made by
# the CLI, an import or the dashboard) reads through SCIM with their email as userName.
scim_attributes = Table(
    "scim_attributes",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("user_id", String(ID), primary_key=True),
    Column("user_name", String(320), nullable=False),  # as sent (an email is normalized)
    Column("user_name_key", String(320), nullable=False),  # its comparison form: unique
    Column("external_id", String(255), nullable=True),
    Column("display_name", String(255), nullable=True),
    # The rest of the resource as sent: name, emails, phoneNumbers, addresses, the
    # enterprise extension (manager, employeeNumber, ...) and so on.
    Column("attributes", JSON, nullable=False),
    Column("version", Integer, nullable=False, default=1),  # meta.version, with users.version
    Column("updated_at", UtcDateTime(), nullable=False),
    # Set by a SCIM DELETE: the user (Inactive, history kept) is gone from SCIM, which
    # answers 404 for them; a later POST of the same userName or email links them again.
    Column("deprovisioned_at", UtcDateTime(), nullable=True),
    ForeignKeyConstraint(["workspace_id", "user_id"], ["users.workspace_id", "users.id"]),
    UniqueConstraint("workspace_id", "user_name_key", name="uq_scim_attributes_user_name_key"),
    Index("ix_scim_attributes_workspace_external_id", "workspace_id", "external_id"),
)

scim_groups = Table(
    "scim_groups",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("id", String(ID), primary_key=True),
    Column("display_name", String(255), nullable=False),
    Column("external_id", String(255), nullable=True),
    Column("attributes", JSON, nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
    Index("ix_scim_groups_workspace_display_name", "workspace_id", "display_name"),
)

scim_group_members = Table(
    "scim_group_members",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("group_id", String(ID), primary_key=True),
    Column("member_id", String(ID), primary_key=True),  # a user's or a group's id
    Column("member_type", String(16), nullable=False),  # "User" or "Group"
    ForeignKeyConstraint(
        ["workspace_id", "group_id"], ["scim_groups.workspace_id", "scim_groups.id"]
    ),
    Index("ix_scim_group_members_workspace_member", "workspace_id", "member_id"),
)

# --- Automations ---
# Rules, their runs and per-user outcomes, and each webhook delivery attempt.
# A rule's next_run_at is claimed by compare-and-set (one process wins a due run);
# a run's lease (holder, lease_until) lets another process resume it after a crash.

automation_rules = Table(
    "automation_rules",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("id", String(ID), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("trigger", JSON, nullable=False),
    Column("conditions", JSON, nullable=False),
    Column("action", JSON, nullable=False),
    Column("event", String(64), nullable=True),  # the trigger's event, for dispatch
    Column("owner_user_id", String(ID), nullable=True),  # set: a personal automation
    Column("webhook_secret", String(80), nullable=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("next_run_at", UtcDateTime(), nullable=True),
    Column("disabled_reason", String(200), nullable=True),
    ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
    ForeignKeyConstraint(["workspace_id", "owner_user_id"], ["users.workspace_id", "users.id"]),
    Index("ix_automation_rules_due", "next_run_at"),
    Index("ix_automation_rules_workspace_event", "workspace_id", "event"),
    Index("ix_automation_rules_workspace_owner", "workspace_id", "owner_user_id"),
)

automation_runs = Table(
    "automation_runs",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("id", String(ID), primary_key=True),  # also the batch id of its audit events
    Column("rule_id", String(ID), nullable=False),
    Column("trigger", String(16), nullable=False),  # schedule, event, manual
    Column("event", String(64), nullable=True),
    Column("event_id", String(ID), nullable=True),
    Column("dry_run", Boolean, nullable=False),
    Column("state", String(16), nullable=False),  # running, succeeded, failed, stopped
    Column("depth", Integer, nullable=False),
    Column("reason", Text, nullable=True),  # why it failed or stopped
    Column("cursor", String(ID), nullable=True),  # the last user id done
    Column("holder", String(64), nullable=True),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("matched", Integer, nullable=False),
    Column("applied", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("refused", Integer, nullable=False),
    Column("active_delta", Integer, nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    ForeignKeyConstraint(
        ["workspace_id", "rule_id"],
        ["automation_rules.workspace_id", "automation_rules.id"],
        ondelete="CASCADE",
    ),
    Index("ix_automation_runs_workspace_rule", "workspace_id", "rule_id", "started_at"),
    Index("ix_automation_runs_state", "state", "lease_until"),
)

automation_outcomes = Table(
    "automation_outcomes",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("run_id", String(ID), primary_key=True),
    Column("user_id", String(ID), primary_key=True),
    Column("result", String(16), nullable=False),  # applied, unchanged, refused
    Column("code", String(32), nullable=True),
    Column("from_status", String(16), nullable=True),
    Column("to_status", String(16), nullable=True),
    ForeignKeyConstraint(
        ["workspace_id", "run_id"],
        ["automation_runs.workspace_id", "automation_runs.id"],
        ondelete="CASCADE",
    ),
    Index("ix_automation_outcomes_workspace_user", "workspace_id", "user_id"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("id", String(ID), primary_key=True),
    Column("message_id", String(ID), nullable=False),  # the outbox row, = webhook-id
    Column("rule_id", String(ID), nullable=True),
    Column("attempt", Integer, nullable=False),
    Column("url", String(2000), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("duration_ms", Integer, nullable=False),
    ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
    Index("ix_webhook_deliveries_workspace_message", "workspace_id", "message_id"),
    Index("ix_webhook_deliveries_workspace_rule", "workspace_id", "rule_id", "at"),
)

# How far each workspace's audit log has been read for user.created and
# user.status_changed rules: audit seq is gapless and in commit order, so no event is
# missed or seen twice. A row exists once the workspace has had a user.* event rule.
automation_cursors = Table(
    "automation_cursors",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("audit_seq", BigInteger, nullable=False),
    ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
)

# Added to the foundation's outbox by 0005: when a failed webhook may be retried.
outbox.append_column(Column("next_attempt_at", UtcDateTime(), nullable=True))


# --- Billing: daily usage snapshots, derived from the audit log ---

# One row per workspace and calendar day (in `timezone`, the workspace's zone when it
# was built), written only once the day is sealed: the log's clock has passed its end,
# so no transition can change it. Derived data: `roster billing snapshot --rebuild`
# recomputes every row from audit_events. `through_seq` and `clock` are where the
# stream of applied transitions stood at the day's end, so a report resumes there.
billing_days = Table(
    "billing_days",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("timezone", String(64), nullable=False),
    Column("opening", Integer, nullable=False),
    Column("peak", Integer, nullable=False),
    Column("closing", Integer, nullable=False),
    Column("seat_days", Integer, nullable=False),
    Column("through_seq", BigInteger, nullable=False),
    Column("clock", UtcDateTime(), nullable=True),
    Column("built_at", UtcDateTime(), nullable=False),
    ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
)


# --- Users API: sort orders of user lists, as index ranges ---

# Keyset pages sorted by name, creation or last sighting read these in order; `id`
# breaks ties. By email: uq_users_workspace_email; by status: ix_users_workspace_status_id.
Index("ix_users_workspace_name_id", users.c.workspace_id, users.c.name, users.c.id)
Index("ix_users_workspace_created_id", users.c.workspace_id, users.c.created_at, users.c.id)
# Never-seen users sort first ascending and last descending (NULL is the smallest
# sighting), as SQLite orders NULLs; PostgreSQL's b-tree puts them last unless told,
# and then serves neither direction from the index: the DDL says NULLS FIRST there.
Index(
    "ix_users_workspace_last_seen_id",
    users.c.workspace_id,
    users.c.last_seen_at,
    users.c.id,
    postgresql_ops={"last_seen_at": "NULLS FIRST"},
)


# --- Mail: the outbox of email, one row per message, written in the transaction
# that caused it and sent after commit by the background worker ---

emails = Table(
    "emails",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("id", String(ID), primary_key=True),
    # Derived from the event that caused the message (`kind.event_id`): unique, so
    # one event makes one message, and the Message-ID header is built from it.
    Column("message_key", String(120), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("to_address", String(320), nullable=False),
    Column("subject", String(300), nullable=False),
    # What the templates fill in (names, a reason, a link): rendered when sent or
    # shown, so a bulk action's thousands of notices cost a small row each.
    Column("context", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # queued, sent, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),  # the server's reply, or why it could not
    Column("created_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
    UniqueConstraint("workspace_id", "message_key", name="uq_emails_workspace_message_key"),
    Index("ix_emails_due", "status", "id"),  # the queued, oldest first
)
workspaces.append_column(
    Column("notify_users_on_status_change", Boolean, nullable=False, default=True)
)
workspaces.append_column(Column("review_digest", Boolean, nullable=False, default=True))

# A password reset link: single use, short-lived, its token kept only as a hash.
password_resets = Table(
    "password_resets",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("id", String(ID), primary_key=True),
    Column("user_id", String(ID), nullable=False),
    Column("token_hash", String(128), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
    ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
    UniqueConstraint("workspace_id", "token_hash", name="uq_password_resets_workspace_token_hash"),
    Index("ix_password_resets_workspace_user", "workspace_id", "user_id"),
)

# --- Webhooks: endpoints subscribed to event types, one delivery per event and
# endpoint (its id is the `webhook-id`), each attempt a `webhook_deliveries` row.
# An automation rule's webhook is a delivery with the rule and URL and no endpoint.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("id", String(ID), primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("description", String(500), nullable=True),
    Column("events", JSON, nullable=False),  # event types, or ["*"]
    Column("enabled", Boolean, nullable=False),
    # Kept as given, not hashed: it signs every delivery (HMAC needs the key itself).
    Column("secret", String(80), nullable=False),
    Column("previous_secret", String(80), nullable=True),  # signs beside it after a rotation
    Column("previous_secret_until", UtcDateTime(), nullable=True),
    Column("failing_since", UtcDateTime(), nullable=True),  # the first failure since a success
    Column("disabled_reason", String(200), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
)

webhook_messages = Table(
    "webhook_messages",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("id", String(ID), primary_key=True),  # the webhook-id
    Column("endpoint_id", String(ID), nullable=True),
    Column("rule_id", String(ID), nullable=True),
    Column("url", String(2000), nullable=True),  # a rule's webhook: where it goes
    Column("event_type", String(64), nullable=False),
    Column("body", Text, nullable=False),  # the exact bytes signed and sent, every attempt
    Column("state", String(16), nullable=False),  # pending, succeeded, failed
    Column("attempts", Integer, nullable=False),
    # Due at; while an attempt is in flight, the end of its claim (a deliverer that
    # died leaves it to be tried again then). None once succeeded or failed.
    Column("next_attempt_at", UtcDateTime(), nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
    Index("ix_webhook_messages_due", "next_attempt_at"),
    Index("ix_webhook_messages_workspace_endpoint", "workspace_id", "endpoint_id", "id"),
)
webhook_deliveries.append_column(Column("endpoint_id", String(ID), nullable=True))
webhook_deliveries.append_column(Column("response", Text, nullable=True))  # its first KiB
