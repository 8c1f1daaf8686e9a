"""In-memory fakes of the storage ports, for unit tests of the domain and services."""

import copy
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import Any, Literal, Self

from roster.domain.access import Revoked
from roster.domain.audit import AuditEntry, AuditKind, ChainHead
from roster.domain.billing import DayUsage, Transition
from roster.domain.bulk import Found, Job, KeyTaken, OutcomeTuple, Tally
from roster.domain.credentials import CredentialKind
from roster.domain.filters import UserFilter
from roster.domain.ids import new_id
from roster.domain.invitations import Invitation
from roster.domain.jobs import JobRef, Lease, ResultRow
from roster.domain.rules.runs import AppliedChange, QueuedEvent, Rule, Run, Subject
from roster.domain.scim import ScimGroup, ScimUser
from roster.domain.throttles import Counter
from roster.domain.users import NewStatus, User
from roster.domain.vocabulary import Role, Status
from roster.domain.webhooks import (
    AttemptRecord,
    Claimed,
    Delivery,
    Endpoint,
    NewDelivery,
    Verdict,
)
from roster.domain.workspaces import UserCounts, Workspace
from roster.services.ports import Leases


@dataclass
class FakeCredential:
    workspace_id: str
    kind: CredentialKind
    name: str | None
    user_id: str | None
    expires_at: datetime | None
    revoked_at: datetime | None = None


@dataclass
class FakeBulkJob:
    """A stored bulk job: the job, its key and fingerprint, ids and results."""

    job: Job
    key: str | None
    fingerprint: str
    targets: list[str]
    results: dict[str, OutcomeTuple] = field(default_factory=dict)


@dataclass
class FakeStore:
    """What a database would hold; each unit of work copies it and writes it back on commit."""

    workspaces: dict[str, Workspace] = field(default_factory=dict)
    users: dict[tuple[str, str], User] = field(default_factory=dict)
    counts: dict[str, UserCounts] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    sessions: dict[str, int] = field(default_factory=dict)  # user id → live sessions
    outbox: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (topic, payload)
    outbox_workspaces: list[str] = field(default_factory=list)  # each outbox row's workspace
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
    endpoints: dict[tuple[str, str], Endpoint] = field(default_factory=dict)
    deliveries: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    attempts: list[tuple[str, str, AttemptRecord]] = field(default_factory=list)  # ws, id, …
    rules: dict[str, Rule] = field(default_factory=dict)
    runs: dict[str, Run] = field(default_factory=dict)
    outcomes: dict[str, list[ResultRow]] = field(default_factory=dict)  # run id → rows
    cursors: dict[str, int] = field(default_factory=dict)  # workspace → audit seq read
    sent: set[int] = field(default_factory=set)  # outbox positions acted on
    snapshots: dict[tuple[str, str, date], DayUsage] = field(default_factory=dict)
    bulk_jobs: dict[tuple[str, str], FakeBulkJob] = field(default_factory=dict)  # (ws, id)


class _Mail:
    def __init__(self, s: FakeStore) -> None:
        self.s = s

    def add(self, workspace_id: str, drafts: Sequence[dict[str, Any]], now: datetime) -> None:
        self.s.mail.extend({**d, "workspace_id": workspace_id} for d in drafts)

    def contacts(self, workspace_id: str, user_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        found = (self.s.users.get((workspace_id, u)) for u in user_ids)
        return {u.id: (u.email, u.name) for u in found if u is not None}

    def add_once(self, workspace_id: str, drafts: Sequence[dict[str, Any]], now: datetime) -> int:
        queued = {(m["workspace_id"], m["message_key"]) for m in self.s.mail}
        new = [d for d in drafts if (workspace_id, d["message_key"]) not in queued]
        self.add(workspace_id, new, now)
        return len(new)

    def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[Any]:
        raise NotImplementedError("sending mail is tested on real databases (tests/e2e/mail)")

    def record(self, outcomes: Sequence[tuple[Any, dict[str, Any]]]) -> None:
        raise NotImplementedError("sending mail is tested on real databases (tests/e2e/mail)")


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

    def expired(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        live = (Status.ACTIVE, Status.BLOCKED)
        due = sorted(
            key for key, u in self.s.users.items()
            if u.status in live and u.expires_at is not None and u.expires_at <= now
        )  # fmt: skip
        return due[:limit]

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

    def read(self, workspace_id: str) -> UserCounts:
        return self.lock(workspace_id)

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
        for p in payloads:
            self.s.outbox.append((topic, p))
            self.s.outbox_workspaces.append(workspace_id)


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


class FakeBulkJobs:
    """Bulk jobs in memory. Filters select by status, role and text only; leases
    (the job runner's) are not faked here: tests/unit/test_jobs.py has its own."""

    holds_reads = True

    def __init__(self, s: FakeStore) -> None:
        self.s = s

    def leases(self) -> Leases:
        raise NotImplementedError("run chunks with BulkJobs().act on the fakes")

    def _users(self, workspace_id: str) -> list[User]:
        found = (u for (ws, _), u in self.s.users.items() if ws == workspace_id)
        return sorted(found, key=lambda u: u.id)

    def _selects(self, f: UserFilter, u: User) -> bool:
        unsupported = replace(f, status=None, role=None, q=None)
        assert unsupported == UserFilter(), "the fake filters by status, role and q only"
        text = (f.q or "").casefold()
        return (
            (f.status is None or u.status in f.status)
            and (f.role is None or u.role in f.role)
            and (text in u.email.casefold() or text in u.name.casefold())
        )

    def matching(
        self, workspace_id: str, f: UserFilter, after: str | None, limit: int
    ) -> tuple[list[str], Found]:
        chosen = [
            u
            for u in self._users(workspace_id)
            if (after is None or u.id > after) and self._selects(f, u)
        ][:limit]
        return [u.id for u in chosen], {u.id: (u.status, u.role) for u in chosen}

    def count_matching(self, workspace_id: str, f: UserFilter) -> int:
        return sum(self._selects(f, u) for u in self._users(workspace_id))

    def statuses(self, workspace_id: str, ids: Sequence[str]) -> Found:
        found = (self.s.users.get((workspace_id, i)) for i in ids)
        return {u.id: (u.status, u.role) for u in found if u is not None}

    def stored_targets(
        self, workspace_id: str, job_id: str, after: str | None, limit: int
    ) -> tuple[list[str], Found]:
        stored = self.s.bulk_jobs[workspace_id, job_id].targets
        ids = [i for i in stored if after is None or i > after][:limit]
        return ids, self.statuses(workspace_id, ids)

    def add(
        self, job: Job, *, idempotency_key: str | None, fingerprint: str, user_ids: Sequence[str]
    ) -> None:
        if idempotency_key is not None and any(
            b.key == idempotency_key and ws == job.workspace_id
            for (ws, _), b in self.s.bulk_jobs.items()
        ):
            raise KeyTaken(idempotency_key)
        stored = FakeBulkJob(job, idempotency_key, fingerprint, sorted(user_ids))
        self.s.bulk_jobs[job.workspace_id, job.id] = stored

    def by_key(self, workspace_id: str, key: str) -> tuple[Job, str] | None:
        for (ws, _), b in self.s.bulk_jobs.items():
            if ws == workspace_id and b.key == key:
                return b.job, b.fingerprint
        return None

    def get(self, workspace_id: str, job_id: str) -> Job | None:
        stored = self.s.bulk_jobs.get((workspace_id, job_id))
        return stored.job if stored else None

    def recent(self, workspace_id: str, before: str | None, limit: int) -> list[Job]:
        mine = [b.job for (ws, _), b in self.s.bulk_jobs.items()
                if ws == workspace_id and (before is None or b.job.id < before)]  # fmt: skip
        return sorted(mine, key=lambda j: j.id, reverse=True)[:limit]

    def add_counts(
        self,
        job: Job,
        chunk: Tally,
        refused_codes: dict[str, int],
        delta: UserCounts,
        revoked: Revoked,
        now: datetime,
        active_before: int,
    ) -> None:
        stored = self.s.bulk_jobs[job.workspace_id, job.id]
        j, t = stored.job, stored.job.tally
        stored.job = replace(
            j,
            state="running",
            processed=j.processed + chunk.total,
            chunks=j.chunks + 1,
            started_at=j.started_at or now,
            active_before=active_before,
            tally=Tally(
                t.applied + chunk.applied,
                t.unchanged + chunk.unchanged,
                dict(refused_codes),
                t.active_delta + delta.active,
                t.owners_delta + delta.active_owners,
            ),
        )

    def add_results(self, job: Job, outcomes: Sequence[OutcomeTuple]) -> None:
        stored = self.s.bulk_jobs[job.workspace_id, job.id]
        stored.results.update((o[0], o) for o in outcomes)

    def results(
        self, job: Job, *, after: str | None, limit: int, outcome: str | None
    ) -> list[ResultRow]:
        stored = self.s.bulk_jobs[job.workspace_id, job.id]
        rows = []
        for user_id, result, code, was in sorted(stored.results.values()):
            if (after is None or user_id > after) and outcome in (None, result):
                u = self.s.users.get((job.workspace_id, user_id))
                email, name = (u.email, u.name) if u else (None, None)
                rows.append(ResultRow(user_id, result, code, was, job.to, email, name))
        return rows[:limit]


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

    def forget_ended(self, window_started_before: datetime, now: datetime) -> int:
        ended = [
            key for key, c in self.s.throttles.items()
            if c.window_started_at < window_started_before
            and (c.blocked_until is None or c.blocked_until <= now)
        ]  # fmt: skip
        for key in ended:
            del self.s.throttles[key]
        return len(ended)


class _RunLeases:
    """The compare-and-set rules of adapters/job_leases.py, on the fake's runs."""

    def __init__(self, s: FakeStore) -> None:
        self.s = s

    def _free(self, ref: JobRef, now: datetime) -> bool:
        run = self.s.runs[ref.job_id]
        return run.state == "running" and (run.lease_until is None or run.lease_until < now)

    def _held(self, lease: Lease) -> Run | None:
        run = self.s.runs[lease.ref.job_id]
        mine = (run.holder, run.lease_until) == (lease.holder, lease.until)
        return run if mine and run.state == "running" else None

    def runnable(self, ref: JobRef) -> bool:
        return self.s.runs[ref.job_id].state == "running"

    def claimable(self, now: datetime, limit: int) -> list[JobRef]:
        refs = [JobRef(r.workspace_id, r.id) for r in self.s.runs.values()]
        return [ref for ref in refs if self._free(ref, now)][:limit]

    def take(self, ref: JobRef, holder: str, now: datetime, until: datetime) -> Lease | None:
        if not self._free(ref, now):
            return None
        self.s.runs[ref.job_id] = replace(self.s.runs[ref.job_id], holder=holder, lease_until=until)
        return Lease(ref, holder, until)

    def renew(self, lease: Lease, until: datetime) -> tuple[Lease, str | None] | None:
        if (run := self._held(lease)) is None:
            return None
        self.s.runs[run.id] = replace(run, lease_until=until)
        return Lease(lease.ref, lease.holder, until), run.cursor

    def advance(self, lease: Lease, cursor: str | None, done: bool, now: datetime) -> None:
        if (run := self._held(lease)) is not None:
            state: Any = "succeeded" if done else "running"
            self.s.runs[run.id] = replace(
                run, cursor=cursor, state=state, finished_at=now if done else None
            )

    def release(self, lease: Lease) -> None:
        if (run := self._held(lease)) is not None:
            self.s.runs[run.id] = replace(run, holder=None, lease_until=None)

    def release_held(self, holder: str) -> int:
        held = [r for r in self.s.runs.values() if r.holder == holder and r.state == "running"
                and r.lease_until is not None]  # fmt: skip
        for run in held:
            self.s.runs[run.id] = replace(run, lease_until=None)
        return len(held)

    def fail(self, ref: JobRef, reason: str, now: datetime) -> None:
        run = self.s.runs[ref.job_id]
        self.s.runs[run.id] = replace(run, state="failed", reason=reason, finished_at=now)


def _selects(where: UserFilter, user: User, s: FakeStore) -> bool:
    """The part of UserFilter the automation unit tests use (status, role, idleness)."""
    seen = s.last_seen.get(user.id)
    idle_since = seen or s.created_at.get(user.id)
    return (
        (where.status is None or user.status in where.status)
        and (where.role is None or user.role in where.role)
        and (where.never_seen is False or seen is None)
        and (
            where.idle_before is None or (idle_since is not None and idle_since < where.idle_before)
        )
    )


class FakeAutomations:
    def __init__(self, s: FakeStore) -> None:
        self.s = s

    def leases(self) -> _RunLeases:
        return _RunLeases(self.s)

    def insert_rule(self, rule: Rule) -> None:
        self.s.rules[rule.id] = rule

    def save_rule(self, rule: Rule) -> None:
        self.s.rules[rule.id] = rule

    def delete_rule(self, workspace_id: str, rule_id: str) -> bool:
        return self.get_rule(workspace_id, rule_id) is not None and bool(self.s.rules.pop(rule_id))

    def get_rule(self, workspace_id: str, rule_id: str) -> Rule | None:
        rule = self.s.rules.get(rule_id)
        return rule if rule and rule.workspace_id == workspace_id else None

    def list_rules(
        self, workspace_id: str, *, after: str | None = None, limit: int | None = None
    ) -> list[Rule]:
        mine = (r for r in self.s.rules.values() if r.workspace_id == workspace_id)
        rules = sorted((r for r in mine if after is None or r.id > after), key=lambda r: r.id)
        return rules[:limit]

    def event_rules(self, workspace_id: str, events: Iterable[str]) -> list[Rule]:
        wanted = set(events)
        return [
            r for r in self.list_rules(workspace_id)
            if r.enabled and r.definition.trigger.event in wanted
        ]  # fmt: skip

    def due_rules(self, now: datetime, limit: int) -> list[tuple[str, str, datetime]]:
        due = [
            r for r in self.s.rules.values() if r.enabled and r.next_run_at and r.next_run_at <= now
        ]
        return [(r.workspace_id, r.id, r.next_run_at) for r in due if r.next_run_at][:limit]

    def claim_due(
        self, workspace_id: str, rule_id: str, seen: datetime, next_at: datetime | None
    ) -> bool:
        rule = self.get_rule(workspace_id, rule_id)
        if rule is None or rule.next_run_at != seen or not rule.enabled:
            return False
        self.s.rules[rule_id] = replace(rule, next_run_at=next_at)
        return True

    def insert_run(self, run: Run) -> None:
        self.s.runs[run.id] = run

    def get_run(self, workspace_id: str, run_id: str) -> Run | None:
        run = self.s.runs.get(run_id)
        return run if run and run.workspace_id == workspace_id else None

    def list_runs(
        self, workspace_id: str, rule_id: str, *, limit: int, before: str | None = None
    ) -> list[Run]:
        runs = [r for r in self.s.runs.values() if r.workspace_id == workspace_id
                and r.rule_id == rule_id and (before is None or r.id < before)]  # fmt: skip
        return sorted(runs, key=lambda r: r.id, reverse=True)[:limit]

    def add_counts(self, run: Run, counts: dict[str, int]) -> None:
        now = self.s.runs[run.id]
        self.s.runs[run.id] = replace(now, **{k: getattr(now, k) + n for k, n in counts.items()})

    def end_run(self, run: Run, state: str, reason: str | None, now: datetime) -> None:
        self.s.runs[run.id] = replace(self.s.runs[run.id], state=state, reason=reason,  # type: ignore[arg-type]
                                      finished_at=now)  # fmt: skip

    def run_depth(self, workspace_id: str, run_id: str | None) -> int | None:
        run = self.get_run(workspace_id, run_id) if run_id else None
        return run.depth if run else None

    def insert_outcomes(
        self,
        workspace_id: str,
        run_id: str,
        outcomes: Sequence[tuple[str, str, str | None, Status | None]],
        to: Status | None,
    ) -> None:
        rows = self.s.outcomes.setdefault(run_id, [])
        for user_id, result, code, was in outcomes:
            rows.append(ResultRow(user_id, result, code, was, to or was, None, None))

    def list_outcomes(
        self, workspace_id: str, run_id: str, *, after: str | None, limit: int
    ) -> list[ResultRow]:
        rows = sorted(self.s.outcomes.get(run_id, []), key=lambda o: o.user_id)
        return [o for o in rows if after is None or o.user_id > after][:limit]

    def refused_by_code(self, workspace_id: str, run_id: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.s.outcomes.get(run_id, []):
            if o.result == "refused" and o.code:
                out[o.code] = out.get(o.code, 0) + 1
        return out

    def runs_for_user(
        self, workspace_id: str, user_id: str, limit: int
    ) -> list[tuple[Run, ResultRow, str]]:
        found = [
            (run, o, self.s.rules[run.rule_id].definition.name)
            for run in self.s.runs.values() if run.workspace_id == workspace_id and not run.dry_run
            for o in self.s.outcomes.get(run.id, []) if o.user_id == user_id
        ]  # fmt: skip
        return sorted(found, key=lambda f: f[0].started_at, reverse=True)[:limit]

    def candidates(
        self, workspace_id: str, where: UserFilter, *, after: str | None, limit: int,
        lock: bool = False,
    ) -> list[Subject]:  # fmt: skip
        chosen = sorted(
            (u for (w, _), u in self.s.users.items() if w == workspace_id
             and (after is None or u.id > after) and _selects(where, u, self.s)),
            key=lambda u: u.id,
        )  # fmt: skip
        return [Subject(u.id, u.email, u.status, u.role) for u in chosen[:limit]]

    def subject(self, workspace_id: str, user_id: str, where: UserFilter) -> Subject | None:
        user = self.s.users.get((workspace_id, user_id))
        if user is None or not _selects(where, user, self.s):
            return None
        return Subject(user.id, user.email, user.status, user.role)

    def ensure_cursor(self, workspace_id: str) -> None:
        self.s.cursors.setdefault(workspace_id, len(self.s.audit))

    def lock_cursor(self, workspace_id: str) -> int | None:
        return self.s.cursors.get(workspace_id)

    def set_cursor(self, workspace_id: str, seq: int) -> None:
        self.s.cursors[workspace_id] = seq

    def applied_events_after(self, workspace_id: str, seq: int, limit: int) -> list[AppliedChange]:
        return [
            AppliedChange(n, e.id, e.user_id or "", e.from_status and e.from_status.value,
                          e.to_status.value if e.to_status else "", e.route.value,
                          e.reason_code and e.reason_code.value, e.batch_id)
            for n, e in enumerate(self.s.audit, start=1)
            if n > seq and e.workspace_id == workspace_id and e.outcome == "applied"
            and e.kind == AuditKind.STATUS
        ][:limit]  # fmt: skip

    def workspaces_with_events(self, limit: int) -> list[str]:
        behind = [w for w, seq in self.s.cursors.items() if seq < len(self.s.audit)]
        waiting = [w for n, w in enumerate(self.s.outbox_workspaces) if n not in self.s.sent]
        return list(dict.fromkeys(behind + waiting))[:limit]

    def pending_events(self, workspace_id: str, limit: int) -> list[QueuedEvent]:
        rows = zip(self.s.outbox_workspaces, self.s.outbox, strict=True)
        return [
            QueuedEvent(str(n), topic, payload)
            for n, (w, (topic, payload)) in enumerate(rows)
            if w == workspace_id and n not in self.s.sent
            and topic not in ("webhook", "user.status_changed")
        ][:limit]  # fmt: skip

    def mark_sent(self, workspace_id: str, ids: Sequence[str], now: datetime) -> None:
        self.s.sent.update(int(i) for i in ids)


class FakeBilling:
    """The audit log's applied status changes (seq: position in the log, from 1) and
    snapshots by (workspace, time zone, day)."""

    def __init__(self, s: FakeStore) -> None:
        self.s = s

    def _applied(self, workspace_id: str, after_seq: int) -> list[tuple[int, AuditEntry]]:
        return [
            (n, e) for n, e in enumerate(self.s.audit, start=1)
            if n > after_seq and e.workspace_id == workspace_id and e.outcome == "applied"
            and e.kind == AuditKind.STATUS
        ]  # fmt: skip

    def transitions(self, workspace_id: str, after_seq: int) -> Iterator[Transition]:
        for n, e in self._applied(workspace_id, after_seq):
            assert e.user_id is not None
            assert e.to_status is not None
            yield Transition(n, e.user_id, e.from_status, e.to_status, e.at)

    def applied_span(self, workspace_id: str, after_seq: int) -> tuple[datetime, datetime] | None:
        ats = [e.at for _, e in self._applied(workspace_id, after_seq)]
        return (min(ats), max(ats)) if ats else None

    def snapshots(
        self, workspace_id: str, timezone: str, first: date = date.min, last: date = date.max
    ) -> list[DayUsage]:
        return [d for (w, tz, day), d in sorted(self.s.snapshots.items())
                if (w, tz) == (workspace_id, timezone) and first <= day <= last]  # fmt: skip

    def latest_snapshot(self, workspace_id: str, timezone: str, before: date) -> DayUsage | None:
        saved = [d for d in self.snapshots(workspace_id, timezone) if d.day < before]
        return saved[-1] if saved else None

    def has_snapshots_not_in(self, workspace_id: str, timezone: str) -> bool:
        return any(w == workspace_id and tz != timezone for w, tz, _ in self.s.snapshots)

    def drop_snapshots(self, workspace_id: str) -> None:
        for key in [k for k in self.s.snapshots if k[0] == workspace_id]:
            del self.s.snapshots[key]

    def save_snapshots(
        self, workspace_id: str, timezone: str, days: Sequence[DayUsage], now: datetime
    ) -> None:
        for d in days:
            self.s.snapshots.setdefault((workspace_id, timezone, d.day), d)

    def workspace_ids(self) -> list[str]:
        return sorted(self.s.workspaces)

    def statuses(self, workspace_id: str) -> dict[str, Status]:
        return {u.id: u.status for (w, _), u in self.s.users.items() if w == workspace_id}

    def active_owners(self, workspace_id: str) -> int:
        return sum(
            1 for (w, _), u in self.s.users.items()
            if w == workspace_id and u.role is Role.OWNER and u.status is Status.ACTIVE
        )  # fmt: skip


class FakeReviewQueue:
    def __init__(self, s: FakeStore) -> None:
        self.s = s

    def blocked(
        self,
        workspace_id: str,
        *,
        review: Literal["due", "overdue", "all"],
        today: date,
        after: tuple[date, str] | None,
        limit: int,
    ) -> list[tuple[User, datetime | None, datetime]]:
        def key(u: User) -> tuple[date, str]:
            return (u.review_by or date.min, u.id)

        def wanted(u: User) -> bool:
            by = u.review_by
            return (
                review == "all"
                or by is None
                or (by < today if review == "overdue" else by <= today)
            )

        found = sorted(
            (u for (w, _), u in self.s.users.items()
             if w == workspace_id and u.status is Status.BLOCKED and wanted(u)
             and (after is None or key(u) > after)),
            key=key,
        )  # fmt: skip
        return [(u, self.s.last_seen.get(u.id), self.s.created_at[u.id]) for u in found[:limit]]

    def refused_since_blocked(self, workspace_id: str, page: Sequence[User]) -> dict[str, int]:
        out: dict[str, int] = {}
        for u in page:
            n = sum(
                1 for e in self.s.audit
                if e.workspace_id == workspace_id and e.user_id == u.id
                and e.kind == AuditKind.STATUS and e.outcome != "applied"
                and (u.status_changed_at is None or e.at >= u.status_changed_at)
            )  # fmt: skip
            if n:
                out[u.id] = n
        return out

    def digest_workspaces(self, due_by: date) -> list[Workspace]:
        return [
            w for w in self.s.workspaces.values()
            if w.review_digest and any(
                ws == w.id and u.status is Status.BLOCKED
                and (u.review_by is None or u.review_by <= due_by)
                for (ws, _), u in self.s.users.items()
            )
        ]  # fmt: skip

    def staff(self, workspace_id: str) -> list[tuple[str, str, str]]:
        return sorted(
            (u.id, u.email, u.name) for (w, _), u in self.s.users.items()
            if w == workspace_id and u.status is Status.ACTIVE
            and u.role in (Role.OWNER, Role.ADMIN)
        )  # fmt: skip


class _Savepoint:
    def __init__(self, uow: "FakeUnitOfWork") -> None:
        self.uow, self.before = uow, copy.deepcopy(uow._work)

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        self.uow._work.__dict__.update(self.before.__dict__)


class FakeWebhookStore:
    """Endpoints and deliveries in dicts; a claim pushes the due time as SQL's does."""

    def __init__(self, s: FakeStore) -> None:
        self.s = s

    def subscribers(self, workspace_id: str) -> list[Endpoint]:
        return [
            e for (w, _), e in sorted(self.s.endpoints.items()) if w == workspace_id and e.enabled
        ]

    def add(self, endpoint: Endpoint) -> None:
        self.s.endpoints[(endpoint.workspace_id, endpoint.id)] = replace(endpoint)

    def get(self, workspace_id: str, endpoint_id: str) -> Endpoint | None:
        found = self.s.endpoints.get((workspace_id, endpoint_id))
        return replace(found) if found else None

    def page(self, workspace_id: str, after: str | None, limit: int) -> list[Endpoint]:
        mine = sorted(
            (
                e
                for (w, i), e in self.s.endpoints.items()
                if w == workspace_id and (after is None or i > after)
            ),
            key=lambda e: e.id,
        )
        return mine[:limit]

    def save(self, endpoint: Endpoint) -> None:
        self.add(endpoint)

    def delete(self, workspace_id: str, endpoint_id: str) -> bool:
        for key, d in list(self.s.deliveries.items()):
            if key[0] == workspace_id and d["endpoint_id"] == endpoint_id:
                del self.s.deliveries[key]
        return self.s.endpoints.pop((workspace_id, endpoint_id), None) is not None

    def owner_contacts(self, workspace_id: str) -> list[tuple[str, str, str]]:
        return [
            (u.id, u.email, u.name)
            for (w, _), u in sorted(self.s.users.items())
            if w == workspace_id and u.role == Role.OWNER and u.status == Status.ACTIVE
        ]

    def queue(self, deliveries: Sequence[NewDelivery]) -> None:
        for n in deliveries:
            row = asdict(n)
            self.s.deliveries[(n.workspace_id, n.id)] = {
                **row,
                "state": "pending",
                "attempts": 0,
                "last_status_code": None,
            }

    def replace_unsent(
        self, workspace_id: str, endpoint_id: str, event_type: str, body: str
    ) -> bool:
        hit = False
        for (w, _), d in self.s.deliveries.items():
            if (w, d["endpoint_id"], d["event_type"], d["state"], d["attempts"]) == (
                workspace_id,
                endpoint_id,
                event_type,
                "pending",
                0,
            ):
                d["body"], hit = body, True
        return hit

    def last_queued(self, workspace_id: str, endpoint_id: str, event_type: str) -> datetime | None:
        mine = [
            d
            for (w, _), d in sorted(self.s.deliveries.items())
            if w == workspace_id
            and d["endpoint_id"] == endpoint_id
            and d["event_type"] == event_type
        ]
        return mine[-1]["created_at"] if mine else None

    def claim(self, now: datetime, limit: int, until: datetime) -> list[Claimed]:
        due = sorted(
            (
                d
                for d in self.s.deliveries.values()
                if d["state"] == "pending" and d["next_attempt_at"] <= now
            ),
            key=lambda d: d["next_attempt_at"],
        )
        taken: list[Claimed] = []
        for d in due:
            endpoint = self.s.endpoints.get((d["workspace_id"], d["endpoint_id"] or ""))
            if d["endpoint_id"] is not None and (endpoint is None or not endpoint.enabled):
                continue
            if len(taken) == limit:
                break
            d["attempts"] += 1
            d["next_attempt_at"] = until
            taken.append(
                Claimed(
                    workspace_id=d["workspace_id"],
                    id=d["id"],
                    attempt=d["attempts"],
                    url=endpoint.url if endpoint else d["url"],
                    secrets=endpoint.secrets(now) if endpoint else ["whsec_cnVsZQ=="],
                    body=d["body"],
                    endpoint_id=d["endpoint_id"],
                    rule_id=d["rule_id"],
                    failing_since=endpoint.failing_since if endpoint else None,
                    created_at=d["created_at"],
                )
            )
        return taken

    def finish(self, done: Sequence[tuple[Claimed, AttemptRecord, Verdict]]) -> None:
        for claimed, tried, verdict in done:
            self._finish(claimed, tried, verdict)

    def _finish(self, claimed: Claimed, tried: AttemptRecord, verdict: Verdict) -> None:
        self.s.attempts.append((claimed.workspace_id, claimed.id, tried))
        d = self.s.deliveries[(claimed.workspace_id, claimed.id)]
        d.update(state=verdict.state, next_attempt_at=verdict.next_attempt_at,
                 last_status_code=tried.status_code)  # fmt: skip
        endpoint = self.s.endpoints.get((claimed.workspace_id, claimed.endpoint_id or ""))
        if endpoint is None:
            return
        if verdict.state == "succeeded":
            endpoint.failing_since = None
        elif verdict.disable:
            endpoint.enabled, endpoint.disabled_reason = False, "failed every attempt for 3 days"
        elif endpoint.failing_since is None:
            endpoint.failing_since = tried.at

    def _delivery(self, d: dict[str, Any]) -> Delivery:
        return Delivery(
            workspace_id=d["workspace_id"], id=d["id"], endpoint_id=d["endpoint_id"],
            event_type=d["event_type"], state=d["state"], attempts=d["attempts"],
            created_at=d["created_at"], next_attempt_at=d["next_attempt_at"],
            last_status_code=d["last_status_code"], body=d["body"],
        )  # fmt: skip

    def deliveries(
        self, workspace_id: str, endpoint_id: str, *, state: str | None, before: str | None,
        limit: int,
    ) -> list[Delivery]:  # fmt: skip
        mine = [
            self._delivery(d)
            for (w, i), d in sorted(self.s.deliveries.items(), reverse=True)
            if w == workspace_id
            and d["endpoint_id"] == endpoint_id
            and (state is None or d["state"] == state)
            and (before is None or i < before)
        ]
        return mine[:limit]

    def delivery(self, workspace_id: str, delivery_id: str) -> Delivery | None:
        d = self.s.deliveries.get((workspace_id, delivery_id))
        return self._delivery(d) if d else None

    def attempts(self, workspace_id: str, ids: Sequence[str]) -> dict[str, list[AttemptRecord]]:
        return {i: [a for w, m, a in self.s.attempts if (w, m) == (workspace_id, i)] for i in ids}

    def retry(self, workspace_id: str, delivery_id: str, now: datetime) -> bool:
        d = self.s.deliveries.get((workspace_id, delivery_id))
        if d is None:
            return False
        d.update(state="pending", next_attempt_at=now)
        return True


class FakeUnitOfWork:
    """Works on a deep copy of the store; commit writes the copy back, exit forgets it."""

    def __init__(self, store: FakeStore, *, write: bool = True) -> None:
        self.store = store
        self.write = write
        self.commits = 0

    def read_only(self, *, consistent: bool = False) -> "FakeUnitOfWork":
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
        self.webhooks = FakeWebhookStore(self._work)
        self.automations = FakeAutomations(self._work)
        self.billing = FakeBilling(self._work)
        self.reviews = FakeReviewQueue(self._work)
        self.bulk_jobs = FakeBulkJobs(self._work)
        return self

    def savepoint(self) -> _Savepoint:
        return _Savepoint(self)

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
