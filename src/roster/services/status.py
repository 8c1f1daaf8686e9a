"""The one door through which statuses change: `change_status` for one user (in its
own transaction, or `change_in_transaction` inside the caller's) and `apply_changes`
for many (a chunk of a job, an import).

Each locks the workspace's counter row first and the user rows second (the same
order everywhere, so two writers never deadlock), asks the domain's `decide` (one
user is a batch of one: `User.change_status`), and writes the status, the audit
entry, the revocations, the counter, the users' status notices (mail) and the
webhook events (`user.status_changed`, `user.status_change_refused`, and
`billing.active_users_changed` when the count of Active users moves) together.
(Automations read status changes from the audit log, so no outbox message is
written for them.)
"""

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain
from typing import Literal, NamedTuple, NoReturn

from roster.domain import errors
from roster.domain.access import Revoked
from roster.domain.audit import APPLIED, AuditEntry
from roster.domain.ids import new_id, new_ids
from roster.domain.reviews import check_review_date
from roster.domain.users import (
    Actor,
    Headcount,
    NewStatus,
    StatusChanged,
    Target,
    User,
    decide,
)
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.domain.webhooks import Event, status_event
from roster.domain.workspaces import UserCounts, Workspace
from roster.services.mail import StatusNotice, notify_status_changes
from roster.services.ports import UnitOfWork
from roster.services.webhooks import billing_event, publish


@dataclass(frozen=True, slots=True)
class ChangeResult:
    user: User
    changed: bool
    revoked: Revoked


class Outcome(NamedTuple):
    """One user's result in a batch: applied, unchanged, or refused with a code. (A
    tuple: a job makes one per user, at a third of a frozen dataclass's cost.)"""

    user_id: str
    result: Literal["applied", "unchanged", "refused"]
    code: str | None = None
    from_status: Status | None = None


def change_status(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    user_id: str,
    to: Status,
    route: Route,
    actor: Actor,
    reason_code: ReasonCode | None = None,
    note: str | None = None,
    now: datetime,
    request_id: str | None = None,
    expected_version: int | None = None,
    review_by: date | None = None,
) -> ChangeResult:
    """Change one user's status in its own transaction, or raise the refusal after
    auditing it: a refused attempt is committed as an audit entry before the error
    propagates, so the log records refusals too. A block may give its `review_by`
    date (else the workspace's default for the reason)."""
    with uow:
        try:
            result = change_in_transaction(
                uow,
                workspace_id=workspace_id,
                user_id=user_id,
                to=to,
                route=route,
                actor=actor,
                reason_code=reason_code,
                note=note,
                now=now,
                request_id=request_id,
                expected_version=expected_version,
                review_by=review_by,
            )
        except errors.DomainError:
            uow.commit()  # the refused attempt's audit entry
            raise
        uow.commit()
        return result


def change_in_transaction(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    user_id: str,
    to: Status,
    route: Route,
    actor: Actor,
    reason_code: ReasonCode | None = None,
    note: str | None = None,
    now: datetime,
    request_id: str | None = None,
    expected_version: int | None = None,
    review_by: date | None = None,
) -> ChangeResult:
    """`change_status` inside the caller's open unit of work (an invitation's
    acceptance lands with the change): it does not commit, and a refusal is raised
    once its audit entry is written, for the caller to commit.

    Same → same returns unchanged, writing nothing. One user, few round trips: one
    statement locks the counter and the user (in that order) and reads the workspace
    and the end of the audit chain; what was decided is written by the audit
    log's `append` (after the chain's end read with the lock), the status columns,
    the counter and the revocations, as a batch's is.
    """
    locked = uow.counts.lock_for_change(workspace_id, user_id)
    if locked is None:
        raise errors.NotFound("No such workspace.")
    workspace, counts, chain, user = locked
    if user is None:
        raise errors.NotFound("No such user in this workspace.")
    review_by = _review_by(workspace, to, reason_code, review_by, now)
    try:
        if expected_version is not None and expected_version != user.version:
            raise errors.VersionConflict()
        event = user.change_status(
            to,
            route=route,
            actor=actor,
            reason_code=reason_code,
            note=note,
            now=now,
            policy=workspace.policy,
            headcount=_headcount(counts),
            review_by=review_by,
        )
    except errors.DomainError as refusal:
        refused = _refused(
            user, to, route, actor, reason_code, note, now, refusal, request_id=request_id
        )
        uow.audit.append([refused], after=chain)
        publish(uow, workspace_id, [status_event(refused)], now)
        raise
    if event is None:
        return ChangeResult(user, changed=False, revoked=Revoked())
    user.events.pop()
    after = counts.moved(user.role, event.from_status, event.to_status)
    entry = _applied(workspace_id, event, request_id, None)
    uow.audit.append([entry], after=chain)
    new = NewStatus.of(
        to, actor=actor, reason_code=reason_code, note=note, now=now, review_by=review_by
    )
    uow.users.set_status(workspace_id, [user.id], new)
    uow.counts.add(workspace_id, after.minus(counts))
    notify_status_changes(uow, workspace, [StatusNotice(user.id, to, reason_code, entry.id)], now)
    publish(uow, workspace_id, _events([entry], counts, after), now)
    leaving = [user.id] if event.leaves_active else []
    revoked = uow.access.revoke(workspace_id, leaving, now) if leaving else Revoked()
    return ChangeResult(user, changed=True, revoked=revoked)


def refuse(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    user_id: str,
    to: Status,
    route: Route,
    actor: Actor,
    reason_code: ReasonCode | None = None,
    note: str | None = None,
    now: datetime,
    refusal: errors.DomainError,
    request_id: str | None = None,
) -> NoReturn:
    """Audit an attempt refused before the domain was asked (a wrong password
    confirming it), the way `change_status` audits the domain's refusals, and raise it.

    It takes the same locks and writes the same refused entry, so the attempt is in
    the user's history and the audit chain like any other refusal.
    """
    with uow:
        locked = uow.counts.lock_for_change(workspace_id, user_id)
        if locked is None:
            raise errors.NotFound("No such workspace.")
        _, _, chain, user = locked
        if user is None:
            raise errors.NotFound("No such user in this workspace.")
        refused = _refused(
            user, to, route, actor, reason_code, note, now, refusal, request_id=request_id
        )
        uow.audit.append([refused], after=chain)
        publish(uow, workspace_id, [status_event(refused)], now)
        uow.commit()
    raise refusal


def audit_refusal(
    uow: UnitOfWork,
    user: User,
    *,
    route: Route,
    actor: Actor,
    refusal: errors.DomainError,
    note: str,
    now: datetime,
) -> None:
    """Write, inside the caller's unit of work, a refused attempt on `user` that
    asked for no status change (a Blocked user's identity, or their address for
    another account): the entry a refused status change writes, from and to their
    status, `note` saying what was asked."""
    entry = _refused(user, user.status, route, actor, None, note, now, refusal)
    uow.audit.append([entry])
    publish(uow, user.workspace_id, [status_event(entry)], now)


def apply_changes(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    targets: Iterable[tuple[str, Status]],
    route: Route,
    actor: Actor,
    reason_code: ReasonCode | None = None,
    note: str | None = None,
    now: datetime,
    batch_id: str,
    notes: Callable[[str], tuple[ReasonCode | None, str | None]] | None = None,
    locked: Mapping[str, tuple[Status, Role]] | None = None,
) -> tuple[list[Outcome], Revoked]:
    """Apply many changes inside the caller's open unit of work, set-based.

    It does not commit: the caller commits each chunk once, so statuses, audit
    entries, revocations and the counter of a chunk land together or not at all.
    Unknown ids come back refused `not_found`; a repeated id counts once, last wins.
    `notes`, when given, supplies a per-user reason and note (imports) instead of
    the shared ones. The domain decides every change (`decide`: in order, with the
    running headcount), so a chunk reads only each user's status and role, and
    writes each table with a few statements.
    `locked`, when given, is the status and role of each existing target as the
    caller has just read it with the rows locked in this unit of work (an automation
    run's candidate query), so they are not read and locked a second time.
    """
    workspace = _workspace(uow, workspace_id)
    counts = uow.counts.lock(workspace_id)
    wanted = dict(targets)
    found = (
        locked
        if locked is not None
        else uow.users.get_statuses_for_update(workspace_id, sorted(wanted))
    )
    asks = [
        Target(user_id, *found[user_id], to, *(notes(user_id) if notes else (reason_code, note)))
        for user_id, to in wanted.items()
        if user_id in found
    ]
    verdicts, after = decide(asks, route=route, actor=actor, policy=workspace.policy, counts=counts)
    outcomes: list[Outcome] = []
    refused: list[tuple[Target, str]] = []
    applied: list[Target] = []
    for a, v in zip(asks, verdicts, strict=True):  # one pass: a chunk has thousands
        if v.refusal is not None:
            outcomes.append(Outcome(a.user_id, "refused", v.refusal.code, a.status))
            refused.append((a, v.refusal.code))
            continue
        outcomes.append(Outcome(a.user_id, v.result, None, a.status))
        if v.result == "applied":
            applied.append(a)
    if len(asks) < len(wanted):  # the unknown ids in their place, refused
        known = iter(outcomes)
        outcomes = [
            next(known) if user_id in found else Outcome(user_id, "refused", errors.NotFound.code)
            for user_id in wanted
        ]
    # The entries are made as the audit log writes them (a generator): one at a time,
    # not thousands alive at once for the garbage collector to walk. The webhook
    # events are made from the same entries, again one at a time, and only when an
    # endpoint subscribes.
    ids = new_ids("evt", len(refused) + len(applied))  # ascending: rows append to their key

    def entries() -> Iterator[AuditEntry]:
        attempts = chain(refused, ((a, APPLIED) for a in applied))
        return (
            AuditEntry(
                workspace_id=workspace_id,
                user_id=a.user_id,
                from_status=a.status,
                to_status=a.to,
                route=route,
                actor_id=actor.id,
                actor_name=actor.name,
                reason_code=a.reason_code,
                note=a.note,
                at=now,
                outcome=outcome,
                batch_id=batch_id,
                id=entry_id,
            )
            for (a, outcome), entry_id in zip(attempts, ids, strict=True)
        )

    uow.audit.append(entries())
    publish(uow, workspace_id, _events(entries(), counts, after), now)
    if not applied:
        return outcomes, Revoked()
    _set_statuses(uow, workspace, applied, actor, now)
    uow.counts.add(workspace_id, after.minus(counts))
    notices = zip(applied, ids[len(refused) :], strict=True)  # applied entries come last
    notify_status_changes(
        uow, workspace, [StatusNotice(a.user_id, a.to, a.reason_code, i) for a, i in notices], now
    )
    leaving = [a.user_id for a in applied if a.leaves_active]
    return outcomes, uow.access.revoke(workspace_id, leaving, now) if leaving else Revoked()


def _set_statuses(
    uow: UnitOfWork, workspace: Workspace, applied: Sequence[Target], actor: Actor, now: datetime
) -> None:
    """The status columns of the applied changes (the domain's `NewStatus`, as
    `User.change_status` sets them; a block its reason's default review date), one
    UPDATE per distinct new value."""
    groups: dict[tuple[Status, ReasonCode | None, str | None], list[str]] = {}
    for a in applied:
        groups.setdefault((a.to, a.reason_code, a.note), []).append(a.user_id)
    for (to, reason_code, note), ids in groups.items():
        review_by = workspace.review_date(reason_code, now) if to == Status.BLOCKED else None
        new = NewStatus.of(
            to, actor=actor, reason_code=reason_code, note=note, now=now, review_by=review_by
        )
        uow.users.set_status(workspace.id, ids, new)


def _review_by(
    workspace: Workspace,
    to: Status,
    reason_code: ReasonCode | None,
    given: date | None,
    now: datetime,
) -> date | None:
    """A block's review date: the one given (today or later), else the workspace's
    default for the reason. Only a block has one."""
    if to != Status.BLOCKED:
        if given is not None:
            raise errors.InvalidInput("A review date comes only with a block.")
        return None
    if given is None:
        return workspace.review_date(reason_code, now)
    return check_review_date(given, workspace.today(now))


def _workspace(uow: UnitOfWork, workspace_id: str) -> Workspace:
    workspace = uow.workspaces.get(workspace_id)
    if workspace is None:
        raise errors.NotFound("No such workspace.")
    return workspace


def _events(
    entries: Iterable[AuditEntry], before: UserCounts, after: UserCounts
) -> Iterator[Event]:
    """The webhook events of audited attempts, and the new count of Active users
    when it moved (the billing event)."""
    yield from map(status_event, entries)
    if after.active != before.active:
        yield billing_event(after.active)


def _headcount(counts: UserCounts) -> Headcount:
    return Headcount(active_users=counts.active, active_owners=counts.active_owners)


def _applied(
    workspace_id: str, e: StatusChanged, request_id: str | None, batch_id: str | None
) -> AuditEntry:
    return AuditEntry(
        workspace_id=workspace_id,
        user_id=e.user_id,
        from_status=e.from_status,
        to_status=e.to_status,
        route=e.route,
        actor_id=e.actor.id,
        actor_name=e.actor.name,
        reason_code=e.reason_code,
        note=e.note,
        at=e.at,
        outcome=APPLIED,
        request_id=request_id,
        batch_id=batch_id,
        id=new_id("evt"),
    )


def _refused(
    user: User,
    to: Status,
    route: Route,
    actor: Actor,
    reason_code: ReasonCode | None,
    note: str | None,
    now: datetime,
    refusal: errors.DomainError,
    *,
    request_id: str | None = None,
    batch_id: str | None = None,
) -> AuditEntry:
    return AuditEntry(
        workspace_id=user.workspace_id,
        user_id=user.id,
        from_status=user.status,
        to_status=to,
        route=route,
        actor_id=actor.id,
        actor_name=actor.name,
        reason_code=reason_code,
        note=note,
        at=now,
        outcome=refusal.code,
        request_id=request_id,
        batch_id=batch_id,
        id=new_id("evt"),
    )
