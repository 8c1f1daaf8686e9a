"""The User aggregate, the only code that assigns a status, and `decide`, the only
code that decides a status change (for one user or many)."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, NamedTuple

from roster.domain import errors
from roster.domain.transitions import (
    IDENTITY_ROUTES,
    SELF_CHANGE_FORBIDDEN,
    Policy,
    allowed_routes,
)
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.domain.workspaces import UserCounts


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asked for a change: an admin, an operator, a rule, a token, or the user."""

    id: str | None
    name: str
    user_id: str | None = None
    role: Role | None = None
    """The acting person's role, where a person acts (the owner rule reads it)."""

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
    review_by: date | None = None
    """A block's review date; every other status has none."""

    @classmethod
    def of(
        cls,
        to: Status,
        *,
        actor: Actor,
        reason_code: ReasonCode | None,
        note: str | None,
        now: datetime,
        review_by: date | None = None,
    ) -> "NewStatus":
        review_by = review_by if to == Status.BLOCKED else None
        return cls(to, reason_code, note, now, actor.name, review_by)

    def clears_expiry(self, expires_at: datetime | None) -> bool:
        """Reactivating an expired account forgets its passed expiry (else it would
        expire again at once); a date still to come, newly given, stays."""
        return (
            self.status == Status.ACTIVE
            and expires_at is not None
            and expires_at <= self.changed_at
        )


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
    review_by: date | None = None  # a Blocked user's review date (domain.reviews)
    expires_at: datetime | None = None  # when the account ends (services.expiry)
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
        review_by: date | None = None,
    ) -> StatusChanged | None:
        """Move this user to `to`, or raise the refusal of PRODUCT §3. A block
        carries its `review_by` date.

        Returns None for same → same (a no-op: nothing to write, nothing to revoke).
        One user is a batch of one: `decide` says whether, so no path skips the rules.
        """
        target = Target(self.id, self.status, self.role, to, reason_code, note)
        counts = UserCounts(active=headcount.active_users, active_owners=headcount.active_owners)
        [verdict], _ = decide([target], route=route, actor=actor, policy=policy, counts=counts)
        if verdict.refusal is not None:
            raise verdict.refusal
        if verdict is UNCHANGED:
            return None
        event = StatusChanged(self.id, self.status, to, route, actor, reason_code, note, now)
        new = NewStatus.of(
            to, actor=actor, reason_code=reason_code, note=note, now=now, review_by=review_by
        )
        self.status = new.status
        self.review_by = new.review_by
        if new.clears_expiry(self.expires_at):
            self.expires_at = None
        self.status_reason = new.reason
        self.status_note = new.note
        self.status_changed_at = new.changed_at
        self.status_changed_by = new.changed_by
        self.version += 1
        self.events.append(event)
        return event

    def change_role(self, role: Role, *, actor: Actor, route: Route, headcount: Headcount) -> None:
        """Give this user `role`: a Blocked user's role changes only on the routes of
        `check_identity_change`, only an owner makes or unmakes owners, and the last
        active owner must stay an owner."""
        if role != self.role:
            check_identity_change(self, ("role",), route=route)
            check_owners_only(actor, self.role, role)
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
    """Raise the domain error that refuses this change, if any; same → same passes.

    It reads only the facts of a user the rules need: their id (is it the actor?),
    status and role, and the workspace's headcount as `decide` keeps it running."""
    if to == status:
        return
    if route in SELF_CHANGE_FORBIDDEN and actor.user_id == user_id:
        raise errors.CannotChangeOwnStatus()
    if route in ADMIN_ROUTES:
        check_owners_only(actor, role)
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


def allowed_changes(
    user: User, *, route: Route, actor: Actor, policy: Policy, headcount: Headcount
) -> list[Status]:
    """The statuses `actor` on `route` may move `user` to now, each asked of
    `check_transition`: the table, the self and owner rules, the last owner and the
    seat limit. Never the user's own status (staying put changes nothing). The reason
    code and note a change needs are the caller's to give, so they count as given."""
    allowed = []
    for to in Status:
        if to == user.status:
            continue
        try:
            check_transition(
                user.id,
                user.status,
                user.role,
                to,
                route=route,
                actor=actor,
                reason_code=ReasonCode.OTHER,
                note="given",
                policy=policy,
                headcount=headcount,
            )
        except errors.DomainError:
            continue
        allowed.append(to)
    return allowed


ADMIN_ROUTES = frozenset({Route.ADMIN_PROFILE, Route.ADMIN_API, Route.BULK})
"""The routes on which an admin acts, where the owner rule holds."""


def check_owners_only(actor: Actor, role: Role, new_role: Role | None = None) -> None:
    """Only an owner changes an owner's status, or makes or unmakes an owner.

    Otherwise an admin could make themself owner and then demote or block the owners
    who made them admin. The rule binds people (a dashboard session, an API session,
    a personal token, their bulk actions); an operator at the CLI is above it.
    """
    touches_owner = Role.OWNER in (role, new_role)
    if touches_owner and actor.user_id is not None and actor.role != Role.OWNER:
        raise errors.Forbidden(
            "Only an owner can change an owner's status, or make or unmake an owner."
        )


class Target(NamedTuple):
    """One user's change as `decide` sees it: who they are now, and what to. (A tuple:
    a bulk chunk makes thousands.)"""

    user_id: str
    status: Status
    role: Role
    to: Status
    reason_code: ReasonCode | None
    note: str | None

    @property
    def leaves_active(self) -> bool:
        """Applied, this change ends the user's access (see StatusChanged)."""
        return self.status == Status.ACTIVE


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision on one target: applied, unchanged, or refused with the error."""

    result: Literal["applied", "unchanged", "refused"]
    refusal: errors.DomainError | None = None


APPLIED = Verdict("applied")
UNCHANGED = Verdict("unchanged")


def decide(
    targets: Iterable[Target],
    *,
    route: Route,
    actor: Actor,
    policy: Policy,
    counts: UserCounts,
) -> tuple[list[Verdict], UserCounts]:
    """The one place a status change is decided: the verdict on each target in order,
    and the workspace's counts once the applied ones are made. Nothing is changed.

    Each target is judged by `check_transition` against the counts as the targets
    before it left them, so a batch refuses exactly what the same changes one by
    one would (the seat limit lets the first activations in, the last owner stays).
    One user is a batch of one (`User.change_status`); a bulk job, an automation
    run, their previews and dry runs, an import and an invitation ask the same.
    """
    verdicts: list[Verdict] = []
    for t in targets:
        try:
            check_transition(
                t.user_id,
                t.status,
                t.role,
                t.to,
                route=route,
                actor=actor,
                reason_code=t.reason_code,
                note=t.note,
                policy=policy,
                headcount=Headcount(counts.active, counts.active_owners),
            )
        except errors.DomainError as refusal:
            # Kept without its traceback, which would hold this frame (and so every
            # verdict of the batch) alive until the next garbage collection.
            verdicts.append(Verdict("refused", refusal.with_traceback(None)))
            continue
        if t.to == t.status:
            verdicts.append(UNCHANGED)
            continue
        counts = counts.moved(t.role, t.status, t.to)
        verdicts.append(APPLIED)
    return verdicts, counts


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
