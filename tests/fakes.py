"""In-memory fakes of the storage ports, for unit tests of the domain and services."""

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from roster.domain.access import Revoked
from roster.domain.audit import AuditEntry, ChainHead
from roster.domain.credentials import CredentialKind
from roster.domain.ids import new_id
from roster.domain.invitations import Invitation
from roster.domain.scim import ScimGroup, ScimUser
from roster.domain.throttles import Counter
from roster.domain.users import NewStatus, User
from roster.domain.vocabulary import Role, Status
from roster.domain.workspaces import UserCounts, Workspace


@dataclass
class FakeCredential:
    workspace_id: str
    kind: CredentialKind
    name: str | None
    user_id: str | None
    expires_at: datetime | None
    revoked_at: datetime | None = None


@dataclass
class FakeStore:
    """What a database would hold; each unit of work copies it and writes it back on commit."""

    workspaces: dict[str, Workspace] = field(default_factory=dict)
    users: dict[tuple[str, str], User] = field(default_factory=dict)
    counts: dict[str, UserCounts] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    sessions: dict[str, int] = field(default_factory=dict)  # user id → live sessions
    outbox: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    credentials: dict[str, FakeCredential] = field(default_factory=dict)
    invitations: dict[str, tuple[Invitation, str]] = field(default_factory=dict)  # id → with hash
    passwords: dict[str, str] = field(default_factory=dict)  # user id → password hash
    mail: list[dict[str, Any]] = field(default_factory=list)  # queued messages
    resets: dict[str, tuple[str, str, str, datetime, bool]] = field(default_factory=dict)
    created_at: dict[str, datetime] = field(default_factory=dict)  # user id → when added
    last_seen: dict[str, datetime] = field(default_factory=dict)  # user id → last sign-in
    scim_users: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    groups: dict[tuple[str, str], ScimGroup] = field(default_factory=dict)
    throttles: dict[tuple[str, str], Counter] = field(default_factory=dict)  # (ws, key)


class _Mail:
    def __init__(self, s: FakeStore) -> None:
        self.s = s

    def add(self, workspace_id: str, drafts: Sequence[dict[str, Any]], now: datetime) -> None:
        self.s.mail.extend({**d, "workspace_id": workspace_id} for d in drafts)

    def contacts(self, workspace_id: str, user_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        found = (self.s.users.get((workspace_id, u)) for u in user_ids)
        return {u.id: (u.email, u.name) for u in found if u is not None}


class _PasswordResets:
    """Links as (workspace, user, hash, expires, used) tuples; sessions end as `_Access`."""

    def __init__(self, s: FakeStore) -> None:
        self.s = s

    def add(
        self, *, workspace_id: str, reset_id: str, user_id: str, token_hash: str,
        now: datetime, expires_at: datetime,
    ) -> None:  # fmt: skip
        self.s.resets[reset_id] = (workspace_id, user_id, token_hash, expires_at, False)

    def live_user(self, workspace_id: str, token_hash: str, now: datetime) -> str | None:
        live = (r for r in self.s.resets.values() if r[0] == workspace_id and r[2] == token_hash)
        return next((r[1] for r in live if r[3] > now and not r[4]), None)

    def finish(self, workspace_id: str, user_id: str, now: datetime) -> int:
        for key, r in self.s.resets.items():
            if r[:2] == (workspace_id, user_id):
                self.s.resets[key] = (*r[:4], True)
        return self.s.sessions.pop(user_id, 0)


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

    def expired_for_update(
        self, workspace_id: str, user_ids: Sequence[str], now: datetime
    ) -> dict[str, tuple[Status, Role]]:
        live = (Status.ACTIVE, Status.BLOCKED)
        return {
            u.id: (u.status, u.role)
            for i in sorted(user_ids)
            if (u := self.get(workspace_id, i))
            and u.status in live
            and u.expires_at is not None
            and u.expires_at <= now
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
            self.s.created_at[u.id] = now
        self.s.passwords.update(password_hashes)

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
                review_by=new.review_by,
                expires_at=None if new.clears_expiry(u.expires_at) else u.expires_at,
            )

    def save_profile(self, user: User) -> None:
        self.s.users[(user.workspace_id, user.id)] = user

    set_review = save_profile

    def set_expiry(
        self, workspace_id: str, user_ids: Sequence[str], expires_at: datetime | None
    ) -> None:
        for i in user_ids:
            u = self.s.users[(workspace_id, i)]
            self.s.users[(workspace_id, i)] = replace(u, expires_at=expires_at)

    def set_password(self, user: User, password_hash: str) -> None:
        self.s.passwords[user.id] = password_hash

    def password_hash(self, workspace_id: str, user_id: str) -> str | None:
        return self.s.passwords.get(user_id) if self.get(workspace_id, user_id) else None

    def signed_in(self, user: User, now: datetime, password_hash: str | None) -> None:
        self.s.last_seen[user.id] = now
        if password_hash:
            self.s.passwords[user.id] = password_hash


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

    def append(self, entries: Iterable[AuditEntry], after: ChainHead | None = None) -> None:
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


class _Credentials:
    def __init__(self, s: FakeStore) -> None:
        self.s = s

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
        credential_id = new_id("crd")
        self.s.credentials[credential_id] = FakeCredential(
            workspace_id, kind, name, user_id, expires_at
        )
        return credential_id

    def revoke(
        self, *, workspace_id: str, credential_id: str, now: datetime
    ) -> tuple[CredentialKind, str | None] | None:
        found = self.s.credentials.get(credential_id)
        if found is None or found.workspace_id != workspace_id or found.revoked_at:
            return None
        found.revoked_at = now
        return found.kind, found.user_id


class _Invitations:
    def __init__(self, s: FakeStore) -> None:
        self.s = s

    def _live(self, workspace_id: str, now: datetime) -> list[tuple[Invitation, str]]:
        return [
            (i, h)
            for i, h in self.s.invitations.values()
            if i.workspace_id == workspace_id and i.state(now) == "pending"
        ]

    def add(self, invitation: Invitation, token_hash: str) -> None:
        self.s.invitations[invitation.id] = (invitation, token_hash)

    def live_by_hash(
        self, workspace_id: str, token_hash: str, now: datetime, *, lock: bool = False
    ) -> Invitation | None:
        return next((i for i, h in self._live(workspace_id, now) if h == token_hash), None)

    def live_by_id(self, workspace_id: str, invitation_id: str, now: datetime) -> Invitation | None:
        return next((i for i, _ in self._live(workspace_id, now) if i.id == invitation_id), None)

    def mark_accepted(self, invitation: Invitation, now: datetime) -> None:
        _, h = self.s.invitations[invitation.id]
        self.s.invitations[invitation.id] = (replace(invitation, accepted_at=now), h)

    def _revoke(self, found: list[tuple[Invitation, str]], now: datetime) -> int:
        for i, h in found:
            self.s.invitations[i.id] = (replace(i, revoked_at=now), h)
        return len(found)

    def revoke(self, workspace_id: str, invitation_id: str, now: datetime) -> bool:
        live = self._live(workspace_id, now)
        return self._revoke([(i, h) for i, h in live if i.id == invitation_id], now) == 1

    def revoke_for_email(self, workspace_id: str, email: str, now: datetime) -> int:
        live = self._live(workspace_id, now)
        return self._revoke([(i, h) for i, h in live if i.email == email], now)


class FakeScimDirectory:
    """SCIM rows as dicts of the stored fields (those `scim.UserWrite` states, plus
    `deprovisioned_at`, `version` and `updated_at`), and groups as they read."""

    def __init__(self, s: FakeStore) -> None:
        self.s = s

    def get_user(
        self, workspace_id: str, user_id: str, *, deprovisioned: bool = False
    ) -> ScimUser | None:
        user = self.s.users.get((workspace_id, user_id))
        row = self.s.scim_users.get((workspace_id, user_id))
        if user is None or (row and row.get("deprovisioned_at") and not deprovisioned):
            return None
        return ScimUser(
            user=user,
            created_at=self.s.created_at[user_id],
            user_name=row["user_name"] if row else user.email,
            external_id=row.get("external_id") if row else None,
            display_name=row.get("display_name") if row else user.name,
            attributes=dict(row.get("attributes") or {}) if row else {},
            scim_version=row["version"] if row else 0,
            updated_at=row["updated_at"] if row else None,
            linked=row is not None,
        )

    def owner_of_user_name(self, workspace_id: str, key: str) -> str | None:
        rows = self.s.scim_users.items()
        found = (u for (w, u), r in rows if w == workspace_id and r.get("user_name_key") == key)
        return next(found, None)

    def owner_of_email(self, workspace_id: str, email: str) -> str | None:
        users = self.s.users.items()
        return next((i for (w, i), u in users if w == workspace_id and u.email == email), None)

    def is_deprovisioned(self, workspace_id: str, user_id: str) -> bool:
        row = self.s.scim_users.get((workspace_id, user_id)) or {}
        return row.get("deprovisioned_at") is not None

    def save_attributes(
        self, workspace_id: str, user_id: str, values: dict[str, Any], now: datetime
    ) -> None:
        row = self.s.scim_users.setdefault((workspace_id, user_id), {"version": 0})
        row.update(values, version=row["version"] + 1, updated_at=now)

    def save_identity(self, workspace_id: str, user_id: str, *, email: str, name: str) -> None:
        user = self.s.users[(workspace_id, user_id)]
        self.s.users[(workspace_id, user_id)] = replace(user, email=email, name=name)

    def deprovision(
        self, workspace_id: str, user_id: str, fallback: dict[str, Any], now: datetime
    ) -> None:
        if (workspace_id, user_id) not in self.s.scim_users:
            self.save_attributes(workspace_id, user_id, fallback, now)
        self.save_attributes(workspace_id, user_id, {"deprovisioned_at": now}, now)
        for key, group in self.s.groups.items():
            kept = [m for m in group.members if m != (user_id, "User")]
            self.s.groups[key] = replace(group, members=kept)

    def get_group(self, workspace_id: str, group_id: str) -> ScimGroup | None:
        return self.s.groups.get((workspace_id, group_id))

    def existing_ids(self, workspace_id: str, ids: Iterable[str]) -> dict[str, str]:
        found = {}
        for i in ids:
            if self.get_user(workspace_id, i) is not None:
                found[i] = "User"
            elif (workspace_id, i) in self.s.groups:
                found[i] = "Group"
        return found

    def add_group(self, values: dict[str, Any], members: dict[str, str]) -> None:
        fields = {k: v for k, v in values.items() if k != "workspace_id"}
        group = ScimGroup(members=sorted(members.items()), **fields)
        self.s.groups[(values["workspace_id"], group.id)] = group

    def update_group(
        self,
        workspace_id: str,
        group_id: str,
        values: dict[str, Any],
        members: dict[str, str],
        now: datetime,
    ) -> None:
        group = self.s.groups[(workspace_id, group_id)]
        self.s.groups[(workspace_id, group_id)] = replace(
            group,
            **values,
            members=sorted(members.items()),
            version=group.version + 1,
            updated_at=now,
        )

    def delete_group(self, workspace_id: str, group_id: str) -> bool:
        return self.s.groups.pop((workspace_id, group_id), None) is not None


class _Throttles:
    def __init__(self, s: FakeStore) -> None:
        self.s = s

    def read(self, workspace_id: str, keys: Sequence[str]) -> dict[str, Counter]:
        found = ((k, self.s.throttles.get((workspace_id, k))) for k in keys)
        return {k: c for k, c in found if c is not None}

    def counter_for_update(self, workspace_id: str, key: str, now: datetime) -> Counter:
        return self.s.throttles.setdefault((workspace_id, key), Counter(0, now, None))

    def save(self, workspace_id: str, key: str, counter: Counter) -> None:
        self.s.throttles[(workspace_id, key)] = counter

    def clear(self, workspace_id: str, key: str) -> None:
        self.s.throttles.pop((workspace_id, key), None)


class FakeUnitOfWork:
    """Works on a deep copy of the store; commit writes the copy back, exit forgets it."""

    def __init__(self, store: FakeStore, *, write: bool = True) -> None:
        self.store = store
        self.write = write
        self.commits = 0

    def read_only(self) -> "FakeUnitOfWork":
        return FakeUnitOfWork(self.store, write=False)

    def refresh_statistics(self) -> None:
        """Dicts need no query planner."""

    def __enter__(self) -> Self:
        self._work = copy.deepcopy(self.store)
        self.workspaces = _Workspaces(self._work)
        self.users = _Users(self._work)
        self.counts = _Counts(self._work)
        self.audit = _Audit(self._work)
        self.access = _Access(self._work)
        self.outbox = _Outbox(self._work)
        self.mail = _Mail(self._work)
        self.password_resets = _PasswordResets(self._work)
        self.credentials = _Credentials(self._work)
        self.invitations = _Invitations(self._work)
        self.scim = FakeScimDirectory(self._work)
        self.throttles = _Throttles(self._work)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        del self._work

    def commit(self) -> None:
        assert self.write, "a read-only unit of work cannot commit"
        self.store.__dict__.update(copy.deepcopy(self._work).__dict__)
        self.commits += 1
