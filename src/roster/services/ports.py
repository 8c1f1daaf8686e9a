"""What the services need from storage. SQL adapters and in-memory fakes implement these."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from roster.domain.access import Revoked
from roster.domain.audit import AuditEntry, ChainHead
from roster.domain.credentials import CredentialKind
from roster.domain.invitations import Invitation
from roster.domain.scim import ScimGroup, ScimUser
from roster.domain.throttles import Counter
from roster.domain.users import NewStatus, User
from roster.domain.vocabulary import Role, Status
from roster.domain.workspaces import UserCounts, Workspace


class WorkspaceRepository(Protocol):
    def get(self, workspace_id: str) -> Workspace | None: ...
    def get_by_slug(self, slug: str) -> Workspace | None: ...
    def add(self, workspace: Workspace) -> None: ...
    def save_settings(self, workspace: Workspace) -> None: ...


class UserRepository(Protocol):
    def get(self, workspace_id: str, user_id: str) -> User | None: ...
    def get_for_update(self, workspace_id: str, user_id: str) -> User | None: ...
    def get_statuses_for_update(
        self, workspace_id: str, user_ids: Sequence[str]
    ) -> dict[str, tuple[Status, Role]]: ...
    def expired_for_update(
        self, workspace_id: str, user_ids: Sequence[str], now: datetime
    ) -> dict[str, tuple[Status, Role]]: ...
    def get_by_email(self, workspace_id: str, email: str) -> User | None: ...
    def get_many_by_email(self, workspace_id: str, emails: Sequence[str]) -> dict[str, User]: ...
    def add_many(
        self,
        users: Sequence[User],
        now: datetime,
        password_hashes: dict[str, str],
        last_seen: dict[str, datetime],
    ) -> None: ...
    def set_status(self, workspace_id: str, user_ids: Sequence[str], new: NewStatus) -> None: ...
    def save_profile(self, user: User) -> None: ...
    def set_review(self, user: User) -> None: ...
    def set_expiry(
        self, workspace_id: str, user_ids: Sequence[str], expires_at: datetime | None
    ) -> None: ...
    def set_password(self, user: User, password_hash: str) -> None: ...
    def password_hash(self, workspace_id: str, user_id: str) -> str | None: ...
    def signed_in(self, user: User, now: datetime, password_hash: str | None) -> None:
        """Stamp the user's last sign-in, and store `password_hash` when given (the
        password rehashed at the current parameters)."""
        ...


class UserCountsRepository(Protocol):
    def create(self, workspace_id: str) -> None: ...
    def lock(self, workspace_id: str) -> UserCounts:
        """Read the counts and hold the workspace's write lock until commit."""
        ...

    def lock_for_change(
        self, workspace_id: str, user_id: str
    ) -> tuple[Workspace, UserCounts, ChainHead, User | None] | None:
        """As `lock`, then the user's row locked too (counter first, user second),
        in one read with the workspace (its policy) and the end of its audit chain,
        which stays put until commit. None: no such workspace; no user: None in
        the last place."""
        ...

    def add(self, workspace_id: str, delta: UserCounts) -> None: ...


class AuditLog(Protocol):
    def append(self, entries: Iterable[AuditEntry], after: ChainHead | None = None) -> None:
        """Append entries (one workspace's: status attempts or admin actions) to its
        chain, numbered and hashed in order, taking them one at a time; `after`, when
        given, is the chain's end as read under the counter lock in this unit of work."""
        ...


class AccessRevoker(Protocol):
    def revoke(self, workspace_id: str, user_ids: Sequence[str], now: datetime) -> Revoked: ...


class Outbox(Protocol):
    def add(
        self, workspace_id: str, topic: str, payloads: Iterable[dict[str, Any]], now: datetime
    ) -> None: ...


class Mailbox(Protocol):
    """The outbox of email: messages queued with the change that causes them."""

    def add(self, workspace_id: str, drafts: Sequence[dict[str, Any]], now: datetime) -> None: ...
    def contacts(
        self, workspace_id: str, user_ids: Sequence[str]
    ) -> dict[str, tuple[str, str]]: ...


class PasswordResets(Protocol):
    def add(
        self, *, workspace_id: str, reset_id: str, user_id: str, token_hash: str,
        now: datetime, expires_at: datetime,
    ) -> None: ...  # fmt: skip
    def live_user(self, workspace_id: str, token_hash: str, now: datetime) -> str | None: ...
    def finish(self, workspace_id: str, user_id: str, now: datetime) -> int: ...


class CredentialRepository(Protocol):
    def add(
        self,
        *,
        workspace_id: str,
        kind: CredentialKind,
        token: str,
        user_id: str | None,
        name: str | None,
        now: datetime,
        expires_at: datetime | None,
    ) -> str:
        """Store the token's hash (never the token); the new credential's id."""
        ...

    def revoke(
        self, *, workspace_id: str, credential_id: str, now: datetime
    ) -> tuple[CredentialKind, str | None] | None:
        """Revoke a live credential: its kind and owner, or None if none was live."""
        ...


class InvitationRepository(Protocol):
    def add(self, invitation: Invitation, token_hash: str) -> None: ...
    def live_by_hash(
        self, workspace_id: str, token_hash: str, now: datetime, *, lock: bool = False
    ) -> Invitation | None: ...
    def live_by_id(
        self, workspace_id: str, invitation_id: str, now: datetime
    ) -> Invitation | None: ...
    def mark_accepted(self, invitation: Invitation, now: datetime) -> None: ...
    def revoke(self, workspace_id: str, invitation_id: str, now: datetime) -> bool: ...
    def revoke_for_email(self, workspace_id: str, email: str, now: datetime) -> int: ...


class ScimDirectory(Protocol):
    """What an identity provider stated: a user's SCIM attributes (userName,
    externalId, the rest as sent), whether SCIM deprovisioned them, and groups."""

    def get_user(
        self, workspace_id: str, user_id: str, *, deprovisioned: bool = False
    ) -> ScimUser | None:
        """The user with their SCIM attributes; a deprovisioned one only if asked."""
        ...

    def owner_of_user_name(self, workspace_id: str, key: str) -> str | None: ...
    def owner_of_email(self, workspace_id: str, email: str) -> str | None: ...
    def is_deprovisioned(self, workspace_id: str, user_id: str) -> bool: ...
    def save_attributes(
        self, workspace_id: str, user_id: str, values: dict[str, Any], now: datetime
    ) -> None:
        """Update the user's SCIM row with `values` (creating it), bumping its version."""
        ...

    def save_identity(self, workspace_id: str, user_id: str, *, email: str, name: str) -> None: ...
    def deprovision(
        self, workspace_id: str, user_id: str, fallback: dict[str, Any], now: datetime
    ) -> None:
        """Mark the user deprovisioned (a SCIM row of `fallback` if they had none)
        and take them out of every group."""
        ...

    def get_group(self, workspace_id: str, group_id: str) -> ScimGroup | None: ...
    def existing_ids(self, workspace_id: str, ids: Iterable[str]) -> dict[str, str]:
        """Which of `ids` are users (not deprovisioned) or groups: id → "User" / "Group"."""
        ...

    def add_group(self, values: dict[str, Any], members: dict[str, str]) -> None: ...
    def update_group(
        self,
        workspace_id: str,
        group_id: str,
        values: dict[str, Any],
        members: dict[str, str],
        now: datetime,
    ) -> None: ...
    def delete_group(self, workspace_id: str, group_id: str) -> bool: ...


class ThrottleRepository(Protocol):
    """Failed sign-in counters by key (an account or a client address)."""

    def read(self, workspace_id: str, keys: Sequence[str]) -> dict[str, Counter]: ...
    def counter_for_update(self, workspace_id: str, key: str, now: datetime) -> Counter:
        """The counter of `key`, created at zero if missing, locked until commit."""
        ...

    def save(self, workspace_id: str, key: str, counter: Counter) -> None: ...
    def clear(self, workspace_id: str, key: str) -> None: ...


class UnitOfWork(Protocol):
    """One transaction: rolls back on exit unless `commit()` was called."""

    @property
    def workspaces(self) -> WorkspaceRepository: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def counts(self) -> UserCountsRepository: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def access(self) -> AccessRevoker: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def mail(self) -> Mailbox: ...
    @property
    def password_resets(self) -> PasswordResets: ...
    @property
    def credentials(self) -> CredentialRepository: ...
    @property
    def invitations(self) -> InvitationRepository: ...
    @property
    def scim(self) -> ScimDirectory: ...
    @property
    def throttles(self) -> ThrottleRepository: ...

    def refresh_statistics(self) -> None:
        """Let the database's query planner measure the user and audit tables again,
        after a first large batch into tables it may never have measured; nothing
        where the planner needs no statistics for it."""
        ...

    def read_only(self) -> "UnitOfWork":
        """A unit of work on the same storage for reads alone: it takes no write
        lock (SQLite's is database-wide) and cannot commit."""
        ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
