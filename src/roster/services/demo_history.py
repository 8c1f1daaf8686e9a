"""Ninety days of the demo workspace's life, replayed through the real services.

Every change is made the way production makes it, with a historical `now`: status
changes through `services.status` on the route that would have made them (an
admin's profile page, the API, SCIM, sign-in, an invitation, the CLI), the three
sample rules through the automation service (the dormant sweep by its schedule,
the payment rules by posted events), one bulk action through the bulk service and
the job runner, and the billing snapshots by billing's own builder at the end of
each day. The clock only moves forward, so the audit chain is in time order and
`roster audit verify` holds. A fixed random seed makes it the same on every machine.
"""

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from roster.domain import errors
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor, User
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services import automations, billing, bulk, jobs
from roster.services.access import create_token
from roster.services.ports import UnitOfWork
from roster.services.status import change_status
from roster.services.users import NewUser, add_users

HISTORY_DAYS = 90
"""Whole days of history before today, each sealed in billing: the workspace is made
the day before the first of them, and the last of them is yesterday."""
INTERN_DAY = 45  # the day the summer interns leave, in one bulk action
DISPUTES = (12, 27, 41, 58, 66, 79)  # days a customer's first payment fails

DORMANT_RULE = {
    "name": "Deactivate dormant members",
    "trigger": {"type": "schedule", "daily_at": "03:00"},
    "conditions": [
        {"field": "status", "op": "in", "value": ["active"]},
        {"field": "role", "op": "eq", "value": "member"},
        {"field": "last_seen_days", "op": "gt", "value": 30},
    ],
    "action": {"type": "set_status", "status": "inactive", "note": "Not seen for 30 days"},
}
PAYMENT_FAILED_RULE = {
    "name": "Block after three failed payments",
    "trigger": {"type": "event", "event": "payment.failed"},
    "conditions": [{"field": "event.data.attempt", "op": "gt", "value": 2}],
    "action": {
        "type": "set_status",
        "status": "blocked",
        "reason_code": "payment_dispute",
        "note": "Third failed payment in a row",
    },
}
PAYMENT_SUCCEEDED_RULE = {
    "name": "Reactivate when a payment succeeds",
    "trigger": {"type": "event", "event": "payment.succeeded"},
    "conditions": [],
    "action": {"type": "set_status", "status": "active", "note": "Payment received"},
}
SAMPLE_RULES = (DORMANT_RULE, PAYMENT_FAILED_RULE, PAYMENT_SUCCEEDED_RULE)

OPS = Actor(id=None, name="cli:ops")


@dataclass
class Story:
    """The demo as it unfolds: the workspace, its people and what is known of them."""

    uow: Callable[[], UnitOfWork]
    tuning: jobs.Tuning
    workspace_id: str
    owner: Actor
    rng: random.Random
    clock: datetime
    hr_sync: Actor = OPS  # the HR system's service token, once made
    okta: Actor = OPS  # the identity provider's SCIM token, once made
    statuses: dict[str, Status] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    seen: dict[str, datetime | None] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    customers: dict[int, str] = field(default_factory=dict)

    def meet(self, user: User, seen: datetime | None) -> None:
        """Know a new person (in the order they arrived: ids are random)."""
        self.statuses[user.id], self.roles[user.id] = user.status, user.role
        self.seen[user.id], self.names[user.id] = seen, user.name

    def in_order(self, user_ids: Iterable[str]) -> list[str]:
        order = {user_id: i for i, user_id in enumerate(self.roles)}
        return sorted(user_ids, key=order.__getitem__)

    def at(self, minutes: float) -> datetime:
        """Move the story's clock on by about `minutes`; never backwards."""
        self.clock += timedelta(minutes=minutes, seconds=self.rng.randint(0, 59))
        return self.clock

    def pick(self, status: Status, *, seen_after: datetime | None = None) -> str | None:
        """A random member in `status` (seen after `seen_after`, if given), or None."""
        found = (
            user_id
            for user_id, s in self.statuses.items()
            if s == status
            and self.roles[user_id] == Role.MEMBER
            and (seen_after is None or (self.seen[user_id] or seen_after) > seen_after)
        )
        candidates = self.in_order(found)
        return self.rng.choice(candidates) if candidates else None

    def refresh(self) -> None:
        """Read every status back: rules and bulk actions changed some."""
        with self.uow() as uow:
            found = uow.users.get_statuses_for_update(self.workspace_id, sorted(self.statuses))
        self.statuses = {user_id: status for user_id, (status, _) in found.items()}


def replay(story: Story, joiners: Sequence[NewUser], start: datetime) -> None:
    """Day by day from `start`: people join, leave, come back, get blocked; rules
    run; at each day's end billing seals the day before."""
    by_day = _spread(story.rng, joiners, HISTORY_DAYS + 1)
    story.hr_sync = _token(story, CredentialKind.SERVICE, "HR sync")
    story.okta = _token(story, CredentialKind.SCIM, "Okta")
    for rule in SAMPLE_RULES:
        automations.create_rule(
            story.uow(),
            workspace_id=story.workspace_id,
            data=rule,
            created_by=story.owner,
            route=Route.ADMIN_PROFILE,
            now=story.at(20),
        )
    for day in range(1, HISTORY_DAYS + 1):
        morning = start.replace(hour=3, minute=30) + timedelta(days=day)
        story.clock = max(story.clock, morning)
        _run_due(story)
        story.clock = max(story.clock, morning.replace(hour=9))
        _join(story, by_day[day])
        _day_of_changes(story, day)
        _payments(story, day)
        if day == INTERN_DAY:
            _interns_leave(story)
        story.refresh()
        # The day is over: billing seals the day before (yesterday's history, at
        # the latest, ends before midnight, and so before `now`).
        story.clock = max(story.clock, morning.replace(hour=23))
        billing.build_snapshots(story.uow(), story.workspace_id, story.at(30))


def _token(story: Story, kind: CredentialKind, name: str) -> Actor:
    """An integration's token (its secret is not kept: the demo only needs its name
    in the history); the actor its requests are made by."""
    credential_id, _ = create_token(
        story.uow(),
        workspace_id=story.workspace_id,
        kind=kind,
        name=name,
        user_id=None,
        now=story.at(15),
        route=Route.ADMIN_PROFILE,
        actor=story.owner,
    )
    return Actor(id=credential_id, name=f"{kind.value} token {name}")


def finish(story: Story, now: datetime) -> None:
    """Bring the story to `now`: today's sweep, if due, and the last sealed day."""
    story.clock = max(story.clock, now)
    _run_due(story)
    billing.build_snapshots(story.uow(), story.workspace_id, now)


def _spread(rng: random.Random, joiners: Sequence[NewUser], days: int) -> list[list[NewUser]]:
    """The joiners over the days: more on weekdays, a hiring wave in the second month."""
    weights = [
        (0.3 if day % 7 in (5, 6) else 1.0) * (2.5 if 30 <= day < 45 else 1.0) if day else 0.0
        for day in range(days)
    ]
    out: list[list[NewUser]] = [[] for _ in range(days)]
    for person in joiners:
        out[rng.choices(range(days), weights)[0]].append(person)
    if joiners and not out[-1]:  # someone joins on the last day, so billing seals it
        out[-1].append(max(out, key=len).pop())
    return out


def _run_due(story: Story) -> None:
    automations.run_due(
        story.uow(), lambda: story.clock, holder="roster init --demo", tuning=story.tuning
    )


def _join(story: Story, people: Sequence[NewUser]) -> None:
    """The day's new people, each day through one door: provisioned by the identity
    provider, created by the HR sync over the API or by the admin, or invited (each
    accepting their own invitation)."""
    route, actor = story.rng.choice(
        [
            (Route.INVITATION, None),
            (Route.SCIM, story.okta),
            (Route.ADMIN_API, story.hr_sync),
            (Route.ADMIN_PROFILE, story.owner),
        ]
    )
    if actor is not None:
        _arrive(story, people, route, actor)
        return
    for person in people:
        _arrive(story, [person], route, Actor(id=None, name=f"{person.email} (invitation)"))


def _arrive(story: Story, people: Sequence[NewUser], route: Route, actor: Actor) -> None:
    if not people:
        return
    now = story.at(story.rng.randint(5, 90))
    arrived = [
        replace(p, last_seen_at=max(p.last_seen_at, now + timedelta(hours=1)))
        if p.last_seen_at
        else p
        for p in people
    ]
    with story.uow() as uow:
        made = add_users(
            uow,
            workspace_id=story.workspace_id,
            new=arrived,
            route=route,
            actor=actor,
            now=now,
            batch_id=None,
        )
        uow.commit()
    for user, person in zip(made, arrived, strict=True):
        story.meet(user, person.last_seen_at)


# What happens on an ordinary day, each with its chance: (chance, from, to, route,
# reason, note). The actor follows from the route.
CHANGES: tuple[tuple[float, Status, Status, Route, ReasonCode | None, str], ...] = (
    (0.35, Status.ACTIVE, Status.INACTIVE, Route.ADMIN_PROFILE, None, "Left the company"),
    (0.35, Status.ACTIVE, Status.INACTIVE, Route.ADMIN_API, None, "Offboarded in the HR system"),
    (0.4, Status.ACTIVE, Status.INACTIVE, Route.SCIM, None, "Deprovisioned in Okta"),
    (0.5, Status.INACTIVE, Status.ACTIVE, Route.SIGN_IN, None, ""),
    (0.15, Status.INACTIVE, Status.ACTIVE, Route.INVITATION, None, "Invited back"),
    (0.1, Status.INACTIVE, Status.ACTIVE, Route.ADMIN_API, None, "Rehired"),
    (0.06, Status.ACTIVE, Status.BLOCKED, Route.ADMIN_PROFILE, ReasonCode.NEEDS_REVIEW,
     "Flagged by security for review"),
    (0.04, Status.ACTIVE, Status.BLOCKED, Route.ADMIN_API, ReasonCode.ACCESS_VIOLATION,
     "Shared credentials with an outside party"),
    (0.05, Status.BLOCKED, Status.ACTIVE, Route.ADMIN_PROFILE, None, "Review done: cleared"),
    (0.04, Status.BLOCKED, Status.INACTIVE, Route.CLI, None, "Closed after review"),
    # Attempts the rules refuse, each audited as a refusal:
    (0.12, Status.BLOCKED, Status.ACTIVE, Route.ADMIN_API, None, "HR sync reactivation"),
    (0.12, Status.BLOCKED, Status.ACTIVE, Route.SCIM, None, "Okta re-sync"),
    (0.15, Status.BLOCKED, Status.ACTIVE, Route.SIGN_IN, None, ""),
)  # fmt: skip


def _day_of_changes(story: Story, day: int) -> None:
    for chance, from_status, to, route, reason, note in CHANGES:
        if story.rng.random() >= chance:
            continue
        now = story.at(story.rng.randint(10, 50))
        signing_in = route in (Route.SIGN_IN, Route.INVITATION) and from_status != Status.BLOCKED
        # Who comes back was seen again later: their last sign-in is after today.
        user_id = story.pick(from_status, seen_after=now if signing_in else None)
        if user_id is not None:
            _change(story, user_id, to, route, _actor(story, route, user_id), reason, note, now)
    if day in (61, 62):  # a sales team reorganised: Okta deprovisions it over two days
        for _ in range(9):
            if (user_id := story.pick(Status.ACTIVE)) is not None:
                note = "Sales team reorganised"
                okta, now = story.okta, story.at(2)
                _change(story, user_id, Status.INACTIVE, Route.SCIM, okta, None, note, now)


def _actor(story: Story, route: Route, user_id: str) -> Actor:
    if route in (Route.SIGN_IN, Route.INVITATION):  # the person themself, as those flows do
        return Actor(id=user_id, name=story.names[user_id], user_id=user_id)
    return {Route.ADMIN_API: story.hr_sync, Route.SCIM: story.okta, Route.CLI: OPS}.get(
        route, story.owner
    )


def _change(
    story: Story,
    user_id: str,
    to: Status,
    route: Route,
    actor: Actor,
    reason: ReasonCode | None,
    note: str,
    now: datetime,
) -> None:
    """One change through the one door; a refusal is audited there and kept so."""
    try:
        change_status(
            story.uow(),
            workspace_id=story.workspace_id,
            user_id=user_id,
            to=to,
            route=route,
            actor=actor,
            reason_code=reason,
            note=note or None,
            now=now,
        )
    except errors.DomainError:
        return
    story.statuses[user_id] = to


def _payments(story: Story, day: int) -> None:
    """Customers whose card fails three times in a week are blocked by the rule; a
    late payment's reactivation is refused for them (a block is lifted by hand).
    Some Inactive customers pay again and come back."""
    for start in DISPUTES:
        if day - start in (0, 3, 6):
            _post(story, start, "payment.failed", {"attempt": (day - start) // 3 + 1})
        elif day - start == 10:
            _post(story, start, "payment.succeeded", {"amount": 4900})
    if day % 9 == 4 and (user_id := story.pick(Status.INACTIVE)) is not None:
        _post_for(story, user_id, "payment.succeeded", {"amount": 4900})


def _post(story: Story, start: int, kind: str, data: dict[str, Any]) -> None:
    """The event for the customer of the dispute that began on day `start`."""
    if start not in story.customers:
        members = story.in_order(u for u, r in story.roles.items() if r == Role.MEMBER)
        story.customers[start] = members[(start * 37) % len(members)]
    _post_for(story, story.customers[start], kind, data)


def _post_for(story: Story, user_id: str, kind: str, data: dict[str, Any]) -> None:
    automations.post_event(
        story.uow(),
        workspace_id=story.workspace_id,
        type=kind,
        user_id=user_id,
        email=None,
        data=data,
        now=story.at(30),
    )
    automations.dispatch_workspace(story.uow(), story.workspace_id, lambda: story.at(1))


def _interns_leave(story: Story) -> None:
    """The summer interns leave together: one bulk action, run to its end."""
    active = story.in_order(u for u, s in story.statuses.items() if s == Status.ACTIVE)
    interns = tuple(u for u in active if story.roles[u] == Role.MEMBER)[3::17]
    request = bulk.BulkRequest(to=Status.INACTIVE, user_ids=interns, note="Summer internship ended")
    job, _ = bulk.start_job(
        story.uow(),
        workspace_id=story.workspace_id,
        request=request,
        actor=story.owner,
        now=story.at(45),
    )
    bulk.run_job(
        story.uow,
        workspace_id=story.workspace_id,
        job_id=job.id,
        clock=lambda: story.at(0.01),
        tuning=story.tuning,
    )
