"""What the services need from storage. SQL adapters and in-memory fakes implement these."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from roster.domain.access import Revoked
from roster.domain.audit import AuditEntry, ChainHead
from roster.domain.credentials import CredentialKind
from roster.domain.invitations import Invitation
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
    def set_password(self, user: User, password_hash: str) -> None: ...


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
    def append(self, entries: Sequence[AuditEntry], after: ChainHead | None = None) -> None:
        """Append entries (one workspace's: status attempts or admin actions) to its
        chain, numbered and hashed in order; `after`, when given, is the chain's end
        as read under the counter lock in this unit of work."""
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

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
