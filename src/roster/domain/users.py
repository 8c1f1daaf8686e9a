"""The User aggregate: the only code that assigns a status."""

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from roster.domain import errors
from roster.domain.transitions import (
    IDENTITY_ROUTES,
    SELF_CHANGE_FORBIDDEN,
    Policy,
    allowed_routes,
)
from roster.domain.vocabulary import ReasonCode, Role, Route, Status


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asked for a change: an admin, an operator, a rule, a token, or the user."""

    id: str | None
    name: str
    user_id: str | None = None

    MAX_NAME = 200  # what the audit log and status_changed_by keep

    def __post_init__(self) -> None:
        # Made-up names ("scim token <its name>", "<email> (invitation)") can pass the
        # 200 characters a stored actor name has: cut them, as a rule's name is.
        if len(self.name) > self.MAX_NAME:
            object.__setattr__(self, "name", self.name[: self.MAX_NAME])


@dataclass(frozen=True, slots=True)
class Headcount:
    """What the seat-limit and last-owner rules need to know about the workspace,
    read under the workspace lock so it is exact at the moment of the change."""

    active_users: int
    active_owners: int


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """A change that was applied."""

    user_id: str
    from_status: Status
    to_status: Status
    route: Route
    actor: Actor
    reason_code: ReasonCode | None
    note: str | None
    at: datetime

    @property
    def leaves_active(self) -> bool:
        return self.from_status == Status.ACTIVE

    @property
    def active_delta(self) -> int:
        return int(self.to_status == Status.ACTIVE) - int(self.from_status == Status.ACTIVE)


@dataclass(frozen=True, slots=True)
class NewStatus:
    """The status columns a change writes. `User.change_status` and a batch's
    applied changes both take them from `of`, so they cannot drift apart."""

    status: Status
    reason: ReasonCode | None
    note: str | None
    changed_at: datetime
    changed_by: str

    @classmethod
    def of(
        cls,
        to: Status,
        *,
        actor: Actor,
        reason_code: ReasonCode | None,
        note: str | None,
        now: datetime,
    ) -> "NewStatus":
        return cls(to, reason_code, note, now, actor.name)


@dataclass(slots=True)
class User:
    id: str
    workspace_id: str
    email: str
    name: str
    role: Role
    status: Status
    status_reason: ReasonCode | None = None
    status_note: str | None = None
    status_changed_at: datetime | None = None
    status_changed_by: str | None = None
    version: int = 1
    events: list[StatusChanged] = field(default_factory=list, repr=False)

    def change_status(
        self,
        to: Status,
        *,
        route: Route,
        actor: Actor,
        reason_code: ReasonCode | None,
        note: str | None,
        now: datetime,
        policy: Policy,
        headcount: Headcount,
    ) -> StatusChanged | None:
        """Move this user to `to`, or raise the refusal of PRODUCT §3.

        Returns None for same → same (a no-op: nothing to write, nothing to revoke).
        The order of the checks is the order a user would want to hear them in:
        who may do this at all, then what the change needs, then the workspace limits.
        """
        check_change(
            self,
            to,
            route=route,
            actor=actor,
            reason_code=reason_code,
            note=note,
            policy=policy,
            headcount=headcount,
        )
        if to == self.status:
            return None
        event = StatusChanged(self.id, self.status, to, route, actor, reason_code, note, now)
        new = NewStatus.of(to, actor=actor, reason_code=reason_code, note=note, now=now)
        self.status = new.status
        self.status_reason = new.reason
        self.status_note = new.note
        self.status_changed_at = new.changed_at
        self.status_changed_by = new.changed_by
        self.version += 1
        self.events.append(event)
        return event

    def change_role(self, role: Role, *, route: Route, headcount: Headcount) -> None:
        """Give this user `role`; the last active owner must stay an owner, and a
        Blocked user's role changes only on the routes of `check_identity_change`."""
        check_identity_change(self, ("role",) if role != self.role else (), route=route)
        leaves_owners = self.role == Role.OWNER and role != Role.OWNER
        if leaves_owners and self.status == Status.ACTIVE and headcount.active_owners <= 1:
            raise errors.LastOwner()
        if role != self.role:
            self.role = role
            self.version += 1

    def rename(self, name: str) -> None:
        """Give this user a new display name (not blank, at most 200 characters)."""
        name = name.strip()
        if not name or len(name) > 200:
            raise errors.InvalidInput("A name needs 1 to 200 characters.")
        if name != self.name:
            self.name = name
            self.version += 1


def check_change(
    user: User,
    to: Status,
    *,
    route: Route,
    actor: Actor,
    reason_code: ReasonCode | None,
    note: str | None,
    policy: Policy,
    headcount: Headcount,
) -> None:
    """Raise the domain error that refuses this change, if any; same → same passes."""
    check_transition(
        user.id,
        user.status,
        user.role,
        to,
        route=route,
        actor=actor,
        reason_code=reason_code,
        note=note,
        policy=policy,
        headcount=headcount,
    )


def check_transition(
    user_id: str,
    status: Status,
    role: Role,
    to: Status,
    *,
    route: Route,
    actor: Actor,
    reason_code: ReasonCode | None,
    note: str | None,
    policy: Policy,
    headcount: Headcount,
) -> None:
    """`check_change` on the only facts of a user the rules read: their id (is it the
    actor?), status and role. A batch decides many users through this same function."""
    if to == status:
        return
    if route in SELF_CHANGE_FORBIDDEN and actor.user_id == user_id:
        raise errors.CannotChangeOwnStatus()
    if route not in allowed_routes(status, to, policy):
        if status == Status.BLOCKED:
            raise errors.UserBlocked()
        raise errors.TransitionNotAllowed(
            f"Route {route.value} may not change a user from {status.value} to {to.value}."
        )
    if to == Status.BLOCKED and reason_code is None:
        raise errors.ReasonRequired("Blocking a user needs a reason code.")
    if status == Status.BLOCKED and not (note and note.strip()):
        raise errors.ReasonRequired("Lifting a block needs a note saying why.")
    if status == Status.ACTIVE and role == Role.OWNER and headcount.active_owners <= 1:
        raise errors.LastOwner()
    if (
        to == Status.ACTIVE
        and policy.seat_limit is not None
        and headcount.active_users + 1 > policy.seat_limit
    ):
        raise errors.SeatLimitReached()


def reads_headcount(status: Status, role: Role, to: Status, policy: Policy) -> bool:
    """Whether `check_transition` may read the headcount for this change: the last-owner
    and seat-limit rules above. Any other change is decided by the user's facts alone,
    so a batch may decide it once for all users alike (keep in step with the rules;
    tests/unit/test_batch_decisions.py checks every case)."""
    leaves_owners = status == Status.ACTIVE and role == Role.OWNER
    takes_seat = to == Status.ACTIVE and policy.seat_limit is not None
    return to != status and (leaves_owners or takes_seat)


def check_identity_change(user: User, changed: Collection[str], *, route: Route) -> None:
    """Refuse changing what identifies or empowers a Blocked user (`changed` names
    it: email, userName, externalId, emails, role, password, credential) on any
    route but IDENTITY_ROUTES. Nothing changing is never refused. The caller says
    what would change; this says whether it may."""
    if changed and user.status == Status.BLOCKED and route not in IDENTITY_ROUTES:
        raise errors.IdentityFrozen(tuple(changed))


def check_address_free(holder: User | None, address: str) -> None:
    """Refuse giving `address` to a new account when a Blocked user holds it (in any
    spelling: the caller looks the holder up by `address_key`), on every route. A
    Blocked user's address stays theirs, so a block cannot be escaped by signing up,
    being invited, imported or provisioned again."""
    if holder is not None and holder.status == Status.BLOCKED:
        raise errors.AddressHeld(address)


def check_new_user(
    status: Status,
    *,
    reason_code: ReasonCode | None,
    policy: Policy,
    headcount: Headcount,
) -> None:
    """Raise the refusal for creating a user in `status`: the same reason and seat
    rules as a change into that status."""
    if status == Status.BLOCKED and reason_code is None:
        raise errors.ReasonRequired("Creating a Blocked user needs a reason code.")
    if (
        status == Status.ACTIVE
        and policy.seat_limit is not None
        and headcount.active_users + 1 > policy.seat_limit
    ):
        raise errors.SeatLimitReached()
