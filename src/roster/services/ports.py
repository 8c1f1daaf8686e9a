"""What the services need from storage. SQL adapters and in-memory fakes implement these."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from roster.domain.access import Revoked
from roster.domain.audit import AuditEntry, ChainHead
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
    def save_role(self, user: User) -> None: ...
    def save_profile(self, user: User) -> None: ...


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

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
