"""The further rules of PRODUCT §3: reasons, self-lockout, last owner, seat limit."""

from datetime import UTC, datetime

import pytest

from roster.domain import errors
from roster.domain.transitions import Policy
from roster.domain.users import Actor, Headcount, User
from roster.domain.vocabulary import ReasonCode, Role, Route, Status

NOW = datetime(2026, 11, 28, tzinfo=UTC)
ADMIN = Actor(id="usr_admin", name="Ada Admin", user_id="usr_admin", role=Role.ADMIN)
OWNER_ACTOR = Actor(id="usr_owner", name="Otto Owner", user_id="usr_owner", role=Role.OWNER)
PLENTY = Headcount(active_users=5, active_owners=2)


def user(status: Status = Status.ACTIVE, role: Role = Role.MEMBER, uid: str = "usr_1") -> User:
    return User(id=uid, workspace_id="ws", email="u@x.example", name="U", role=role, status=status)


def change(
    u: User,
    to: Status,
    *,
    route: Route = Route.ADMIN_PROFILE,
    actor: Actor = ADMIN,
    reason: ReasonCode | None = None,
    note: str | None = None,
    policy: Policy = Policy(),
    headcount: Headcount = PLENTY,
) -> None:
    u.change_status(
        to,
        route=route,
        actor=actor,
        reason_code=reason,
        note=note,
        now=NOW,
        policy=policy,
        headcount=headcount,
    )


def test_blocking_without_a_reason_code_is_refused() -> None:
    u = user()
    with pytest.raises(errors.ReasonRequired):
        change(u, Status.BLOCKED, note="a note is not enough")
    assert u.status == Status.ACTIVE


def test_blocking_records_reason_note_time_and_actor() -> None:
    u = user()
    change(u, Status.BLOCKED, reason=ReasonCode.PAYMENT_DISPUTE, note="chargeback")
    assert (u.status, u.status_reason, u.status_note) == (
        Status.BLOCKED,
        ReasonCode.PAYMENT_DISPUTE,
        "chargeback",
    )
    assert (u.status_changed_at, u.status_changed_by, u.version) == (NOW, "Ada Admin", 2)


@pytest.mark.parametrize("note", [None, "", "   "])
def test_lifting_a_block_needs_a_note(note: str | None) -> None:
    u = user(Status.BLOCKED)
    with pytest.raises(errors.ReasonRequired):
        change(u, Status.ACTIVE, note=note)
    assert u.status == Status.BLOCKED


@pytest.mark.parametrize("route", [Route.ADMIN_PROFILE, Route.ADMIN_API, Route.BULK])
def test_an_admin_cannot_change_their_own_status(route: Route) -> None:
    me = user(uid="usr_admin", role=Role.ADMIN)
    with pytest.raises(errors.CannotChangeOwnStatus):
        change(me, Status.INACTIVE, route=route)


def test_a_user_may_reactivate_themself_by_signing_in() -> None:
    me = user(Status.INACTIVE, uid="usr_admin")
    change(me, Status.ACTIVE, route=Route.SIGN_IN)
    assert me.status == Status.ACTIVE


@pytest.mark.parametrize("to", [Status.INACTIVE, Status.BLOCKED])
def test_the_last_active_owner_cannot_leave_active(to: Status) -> None:
    owner = user(role=Role.OWNER)
    reason, one, two = ReasonCode.OTHER, Headcount(5, active_owners=1), PLENTY
    with pytest.raises(errors.LastOwner):
        change(owner, to, actor=OWNER_ACTOR, reason=reason, headcount=one)
    change(owner, to, actor=OWNER_ACTOR, reason=reason, headcount=two)
    assert owner.status == to


@pytest.mark.parametrize("route", [Route.ADMIN_PROFILE, Route.ADMIN_API, Route.BULK])
def test_only_an_owner_changes_an_owners_status_where_an_admin_acts(route: Route) -> None:
    owner = user(role=Role.OWNER)
    with pytest.raises(errors.Forbidden):
        change(owner, Status.INACTIVE, route=route, actor=ADMIN)
    assert (owner.status, owner.version) == (Status.ACTIVE, 1)
    change(owner, Status.INACTIVE, route=route, actor=OWNER_ACTOR)
    assert owner.version == 2


def test_the_owner_rule_leaves_the_operator_and_identity_providers_alone() -> None:
    cli = Actor(id=None, name="cli:test")
    change(user(role=Role.OWNER), Status.INACTIVE, route=Route.CLI, actor=cli)
    change(user(role=Role.OWNER), Status.INACTIVE, route=Route.SCIM, actor=cli)


@pytest.mark.parametrize(("before", "after"), [(Role.ADMIN, Role.OWNER), (Role.OWNER, Role.ADMIN)])
def test_only_an_owner_makes_or_unmakes_an_owner(before: Role, after: Role) -> None:
    someone = user(role=before)
    with pytest.raises(errors.Forbidden):
        someone.change_role(after, actor=ADMIN, route=Route.ADMIN_API, headcount=PLENTY)
    assert someone.role == before
    someone.change_role(
        after, actor=OWNER_ACTOR, route=Route.ADMIN_API, headcount=Headcount(5, active_owners=2)
    )
    assert someone.role == after
    user(role=Role.MEMBER).change_role(
        Role.ADMIN, actor=ADMIN, route=Route.ADMIN_API, headcount=PLENTY
    )


def test_the_last_owner_cannot_be_demoted() -> None:
    owner = user(role=Role.OWNER)
    with pytest.raises(errors.LastOwner):
        owner.change_role(
            Role.ADMIN, actor=OWNER_ACTOR, route=Route.ADMIN_API, headcount=Headcount(5, 1)
        )
    owner.change_role(
        Role.ADMIN, actor=OWNER_ACTOR, route=Route.ADMIN_API, headcount=Headcount(5, 2)
    )
    assert owner.role == Role.ADMIN


def test_activation_past_the_seat_limit_is_refused() -> None:
    full = Policy(seat_limit=5)
    with pytest.raises(errors.SeatLimitReached):
        change(user(Status.INACTIVE), Status.ACTIVE, policy=full, headcount=Headcount(5, 1))
    u = user(Status.INACTIVE)
    change(u, Status.ACTIVE, policy=full, headcount=Headcount(4, 1))
    assert u.status == Status.ACTIVE


def test_the_seat_limit_never_stops_leaving_active() -> None:
    u = user()
    change(u, Status.INACTIVE, policy=Policy(seat_limit=1), headcount=Headcount(9, 1))
    assert u.status == Status.INACTIVE


def test_same_to_same_is_a_no_op_even_for_routes_that_could_not_change_it() -> None:
    u = user(Status.BLOCKED)
    assert (
        u.change_status(
            Status.BLOCKED,
            route=Route.SCIM,
            actor=ADMIN,
            reason_code=None,
            note=None,
            now=NOW,
            policy=Policy(),
            headcount=PLENTY,
        )
        is None
    )
    assert (u.version, u.events) == (1, [])


def test_blocked_check_comes_before_reasons() -> None:
    # An automation without a note still hears "blocked", the reason that matters.
    with pytest.raises(errors.UserBlocked):
        change(user(Status.BLOCKED), Status.ACTIVE, route=Route.AUTOMATION)
