"""Walks every (from, to, route) triple of PRODUCT §3 against the domain."""

from datetime import UTC, datetime
from itertools import product

import pytest

from roster.domain import errors
from roster.domain.transitions import Policy, allowed_targets
from roster.domain.users import Actor, Headcount, User
from roster.domain.vocabulary import ReasonCode, Role, Route, Status

A, I, B = Status.ACTIVE, Status.INACTIVE, Status.BLOCKED
R = Route
# The routes of PRODUCT §2; `password_reset` (second contract) changes no status at all.
ALL = set(Route) - {R.PASSWORD_RESET}
# The contract, written out as PRODUCT §3 states it (independently of the domain's table).
SPEC: dict[tuple[Status, Status], set[Route]] = {
    (A, I): {R.ADMIN_PROFILE, R.ADMIN_API, R.CLI, R.BULK, R.AUTOMATION, R.SCIM},
    (A, B): {R.ADMIN_PROFILE, R.ADMIN_API, R.CLI, R.BULK, R.AUTOMATION},
    (I, A): ALL,
    (I, B): {R.ADMIN_PROFILE, R.ADMIN_API, R.CLI, R.BULK, R.AUTOMATION},
    (B, A): {R.ADMIN_PROFILE, R.CLI},
    (B, I): {R.ADMIN_PROFILE, R.CLI},
}
NOW = datetime(2026, 11, 28, tzinfo=UTC)
ADMIN = Actor(id="usr_admin", name="Ada Admin", user_id="usr_admin")


def attempt(frm: Status, to: Status, route: Route, policy: Policy = Policy()) -> User:
    user = User(
        id="usr_1", workspace_id="ws", email="u@x.example", name="U", role=Role.MEMBER, status=frm
    )
    user.change_status(
        to,
        route=route,
        actor=ADMIN,
        reason_code=ReasonCode.NEEDS_REVIEW,
        note="checked",
        now=NOW,
        policy=policy,
        headcount=Headcount(active_users=10, active_owners=2),
    )
    return user


def expected_error(frm: Status) -> type[errors.DomainError]:
    return errors.UserBlocked if frm == B else errors.TransitionNotAllowed


@pytest.mark.parametrize(("frm", "to", "route"), list(product(Status, Status, Route)))
def test_every_triple_of_the_table(frm: Status, to: Status, route: Route) -> None:
    if frm == to:
        user = attempt(frm, to, route)
        assert (user.status, user.version, user.events) == (frm, 1, [])
    elif route in SPEC[(frm, to)]:
        assert attempt(frm, to, route).status == to
    else:
        with pytest.raises(expected_error(frm)) as refused:
            attempt(frm, to, route)
        assert refused.value.code == ("user_blocked" if frm == B else "transition_not_allowed")


@pytest.mark.parametrize(("to", "route"), list(product([A, I], Route)))
def test_allow_api_unblock_opens_exactly_the_admin_api(to: Status, route: Route) -> None:
    policy = Policy(allow_api_unblock=True)
    if route in {R.ADMIN_PROFILE, R.CLI, R.ADMIN_API}:
        assert attempt(B, to, route, policy).status == to
    else:
        with pytest.raises(errors.UserBlocked):
            attempt(B, to, route, policy)


def test_user_blocked_detail_names_the_only_way_back() -> None:
    with pytest.raises(errors.UserBlocked) as refused:
        attempt(B, A, R.AUTOMATION)
    assert "Only an admin can change a Blocked user's status" in refused.value.detail
    assert "profile in the admin dashboard" in refused.value.detail


@pytest.mark.parametrize(("frm", "route"), list(product(Status, Route)))
def test_allowed_targets_agree_with_the_table(frm: Status, route: Route) -> None:
    expected = [to for to in Status if to != frm and route in SPEC[(frm, to)]]
    assert allowed_targets(frm, route, Policy()) == expected
