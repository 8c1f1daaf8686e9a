"""Accounts that end on a date: `expires_at` on a user, set when they are created or
edited, and the tick that makes expired users Inactive.

When an account's `expires_at` passes, the user becomes Inactive through route
`automation` with reason `expired`, through the one door (`apply_changes`, one
batch id per workspace per tick), so it is audited, revokes access and counts
in billing like any other deactivation. A Blocked user stays Blocked: the
refusal (`user_blocked`) is recorded as any automation's, once: a refused
expiry is spent (its date cleared), so the tick does not refuse it again every
minute. Reactivating an expired user forgets the passed date (the status write
does it, `NewStatus.clears_expiry`), unless a new one is given.
"""

from datetime import datetime
from itertools import groupby
from types import EllipsisType

from roster.domain.audit import AuditKind, admin_action
from roster.domain.ids import new_id
from roster.domain.users import Actor, User
from roster.domain.vocabulary import ReasonCode, Route, Status
from roster.services.ports import UnitOfWork
from roster.services.status import Outcome, apply_changes

EXPIRY = Actor(id=None, name="expiry")
BATCH = 1000  # users per workspace per tick: a tick stays short; the next takes the rest


def expire_due(uow: UnitOfWork, now: datetime) -> list[Outcome]:
    """Make the users whose `expires_at` has passed Inactive (route automation,
    reason expired), a batch per workspace, and spend the refused ones' expiry.
    Any number of processes may run it: the door re-reads each status under lock,
    so a user already made Inactive comes back unchanged, not twice."""
    with uow.read_only() as reading:
        due = reading.users.expired(now, BATCH)
    outcomes: list[Outcome] = []
    for workspace_id, rows in groupby(due, key=lambda r: r[0]):
        outcomes += _expire(uow, workspace_id, [user_id for _, user_id in rows], now)
    return outcomes


def _expire(
    unit: UnitOfWork, workspace_id: str, user_ids: list[str], now: datetime
) -> list[Outcome]:
    with unit:
        # The counter first, then the rows (the door's order): read again under the
        # lock, a user reactivated with a new date since the first read is left alone.
        unit.counts.lock(workspace_id)
        due = unit.users.expired_for_update(workspace_id, user_ids, now)
        if not due:
            return []
        outcomes, _ = apply_changes(
            unit,
            workspace_id=workspace_id,
            targets=[(user_id, Status.INACTIVE) for user_id in due],
            route=Route.AUTOMATION,
            actor=EXPIRY,
            reason_code=ReasonCode.EXPIRED,
            now=now,
            batch_id=new_id("bat"),
            locked=due,
        )
        refused = [o.user_id for o in outcomes if o.result == "refused"]
        if refused:
            unit.users.set_expiry(workspace_id, refused, None)
        unit.commit()
    return outcomes


def change_expiry(
    uow: UnitOfWork,
    user: User,
    expires_at: datetime | EllipsisType | None,
    *,
    route: Route,
    actor: Actor,
    now: datetime,
    request_id: str | None = None,
) -> None:
    """Inside the caller's unit of work: give `user` a new `expires_at` (None: never;
    `...`: leave it), audited as `user.expiry_changed` when it changes."""
    if isinstance(expires_at, EllipsisType) or expires_at == user.expires_at:
        return
    before, user.expires_at = user.expires_at, expires_at
    uow.users.set_expiry(user.workspace_id, [user.id], expires_at)
    changes = {"expires_at": [_iso(before), _iso(expires_at)]}
    entry = admin_action(
        AuditKind.EXPIRY_CHANGED,
        changes,
        workspace_id=user.workspace_id,
        route=route,
        actor=actor,
        at=now,
        entry_id=new_id("evt"),
        request_id=request_id,
        user_id=user.id,
    )
    uow.audit.append([entry])


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
