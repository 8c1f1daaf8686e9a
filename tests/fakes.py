"""In-memory fakes of the storage ports, for unit tests of the domain and services."""

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from roster.domain.access import Revoked
from roster.domain.audit import AuditEntry, ChainHead
from roster.domain.users import NewStatus, User
from roster.domain.vocabulary import Role, Status
from roster.domain.workspaces import UserCounts, Workspace


@dataclass
class FakeStore:
    """What a database would hold; each unit of work copies it and writes it back on commit."""

    workspaces: dict[str, Workspace] = field(default_factory=dict)
    users: dict[tuple[str, str], User] = field(default_factory=dict)
    counts: dict[str, UserCounts] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    sessions: dict[str, int] = field(default_factory=dict)  # user id → live sessions
    outbox: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


class _Workspaces:
    def __init__(self, s: FakeStore) -> None:
        self.s = s

    def get(self, workspace_id: str) -> Workspace | None:
        return self.s.workspaces.get(workspace_id)

    def get_by_slug(self, slug: str) -> Workspace | None:
        return next((w for w in self.s.workspaces.values() if w.slug == slug), None)

    def add(self, workspace: Workspace) -> None:
        self.s.workspaces[workspace.id] = workspace

    def save_settings(self, workspace: Workspace) -> None:
        self.s.workspaces[workspace.id] = workspace


class _Users:
    def __init__(self, s: FakeStore) -> None:
        self.s = s

    def get(self, workspace_id: str, user_id: str) -> User | None:
        return self.s.users.get((workspace_id, user_id))

    get_for_update = get

    def get_statuses_for_update(
        self, workspace_id: str, user_ids: Sequence[str]
    ) -> dict[str, tuple[Status, Role]]:
        return {
            u.id: (u.status, u.role) for i in sorted(user_ids) if (u := self.get(workspace_id, i))
        }

    def get_by_email(self, workspace_id: str, email: str) -> User | None:
        return self.get_many_by_email(workspace_id, [email]).get(email)

    def get_many_by_email(self, workspace_id: str, emails: Sequence[str]) -> dict[str, User]:
        wanted = set(emails)
        return {
            u.email: u
            for (w, _), u in self.s.users.items()
            if w == workspace_id and u.email in wanted
        }

    def add_many(
        self,
        users: Sequence[User],
        now: datetime,
        password_hashes: dict[str, str],
        last_seen: dict[str, datetime],
    ) -> None:
        for u in users:
            self.s.users[(u.workspace_id, u.id)] = u

    def save_statuses(self, users: Sequence[User]) -> None:
        for u in users:
            self.s.users[(u.workspace_id, u.id)] = u

    def set_status(self, workspace_id: str, user_ids: Sequence[str], new: NewStatus) -> None:
        for i in user_ids:
            u = self.s.users[(workspace_id, i)]
            self.s.users[(workspace_id, i)] = replace(
                u,
                status=new.status,
                status_reason=new.reason,
                status_note=new.note,
                status_changed_at=new.changed_at,
                status_changed_by=new.changed_by,
                version=u.version + 1,
            )

    def save_role(self, user: User) -> None:
        self.s.users[(user.workspace_id, user.id)] = user

    save_profile = save_role


class _Counts:
    def __init__(self, s: FakeStore) -> None:
        self.s = s

    def create(self, workspace_id: str) -> None:
        self.s.counts[workspace_id] = UserCounts()

    def lock(self, workspace_id: str) -> UserCounts:
        return self.s.counts.get(workspace_id, UserCounts())

    def lock_for_change(
        self, workspace_id: str, user_id: str
    ) -> tuple[Workspace, UserCounts, ChainHead, User | None] | None:
        workspace = self.s.workspaces.get(workspace_id)
        if workspace is None:
            return None
        user = self.s.users.get((workspace_id, user_id))
        return workspace, self.lock(workspace_id), ChainHead(len(self.s.audit)), user

    def add(self, workspace_id: str, delta: UserCounts) -> None:
        c = self.s.counts[workspace_id]
        self.s.counts[workspace_id] = UserCounts(
            c.active + delta.active,
            c.inactive + delta.inactive,
            c.blocked + delta.blocked,
            c.active_owners + delta.active_owners,
        )


class _Audit:
    def __init__(self, s: FakeStore) -> None:
        self.s = s

    def append(self, entries: Sequence[AuditEntry], after: ChainHead | None = None) -> None:
        for e in entries:
            self.s.audit.append(replace(e, seq=len(self.s.audit) + 1))


class _Access:
    def __init__(self, s: FakeStore) -> None:
        self.s = s

    def revoke(self, workspace_id: str, user_ids: Sequence[str], now: datetime) -> Revoked:
        return Revoked(sessions=sum(self.s.sessions.pop(u, 0) for u in user_ids))


class _Outbox:
    def __init__(self, s: FakeStore) -> None:
        self.s = s

    def add(
        self, workspace_id: str, topic: str, payloads: Iterable[dict[str, Any]], now: datetime
    ) -> None:
        self.s.outbox.extend((topic, p) for p in payloads)


class FakeUnitOfWork:
    """Works on a deep copy of the store; commit writes the copy back, exit forgets it."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.commits = 0

    def __enter__(self) -> Self:
        self._work = copy.deepcopy(self.store)
        self.workspaces = _Workspaces(self._work)
        self.users = _Users(self._work)
        self.counts = _Counts(self._work)
        self.audit = _Audit(self._work)
        self.access = _Access(self._work)
        self.outbox = _Outbox(self._work)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        del self._work

    def commit(self) -> None:
        self.store.__dict__.update(copy.deepcopy(self._work).__dict__)
        self.commits += 1
