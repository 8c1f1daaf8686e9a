"""A Blocked user's identity is frozen on every route but the profile and the CLI,
and their address stays theirs on every route: the domain's two rules, walked over
every (status, route) pair."""

import pytest

from roster.domain import errors
from roster.domain.users import Actor, Headcount, User, check_address_free, check_identity_change
from roster.domain.vocabulary import Role, Route, Status

OPERATOR = Actor(id=None, name="cli:test")

# An independent copy of the contract: who may change a Blocked user's identity.
MAY_CHANGE_A_BLOCKED_IDENTITY = {Route.ADMIN_PROFILE, Route.CLI}
FIELDS = ("email", "userName", "externalId", "emails", "role", "password", "credential")


def user(status: Status) -> User:
    return User("usr_1", "ws", "u@x.example", "U", Role.MEMBER, status)


@pytest.mark.parametrize("route", list(Route))
@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("field", FIELDS)
def test_only_the_profile_and_the_cli_change_what_identifies_a_blocked_user(
    status: Status, route: Route, field: str
) -> None:
    frozen = status == Status.BLOCKED and route not in MAY_CHANGE_A_BLOCKED_IDENTITY
    if not frozen:
        check_identity_change(user(status), (field,), route=route)
        return
    with pytest.raises(errors.UserBlocked) as refused:
        check_identity_change(user(status), (field,), route=route)
    assert refused.value.code == "user_blocked"
    assert field in refused.value.detail


@pytest.mark.parametrize("route", list(Route))
def test_changing_nothing_of_a_blocked_users_identity_is_never_refused(route: Route) -> None:
    check_identity_change(user(Status.BLOCKED), (), route=route)


@pytest.mark.parametrize("route", list(Route))
def test_a_blocked_users_role_changes_only_on_the_profile_or_the_cli(route: Route) -> None:
    blocked = user(Status.BLOCKED)
    if route in MAY_CHANGE_A_BLOCKED_IDENTITY:
        blocked.change_role(Role.ADMIN, actor=OPERATOR, route=route, headcount=_headcount())
        assert blocked.role == Role.ADMIN
        return
    with pytest.raises(errors.UserBlocked):
        blocked.change_role(Role.ADMIN, actor=OPERATOR, route=route, headcount=_headcount())
    assert blocked.role == Role.MEMBER
    blocked.change_role(
        Role.MEMBER, actor=OPERATOR, route=route, headcount=_headcount()
    )  # same: no change


@pytest.mark.parametrize("status", list(Status))
def test_only_a_blocked_holder_keeps_their_address_from_a_new_account(status: Status) -> None:
    if status != Status.BLOCKED:
        check_address_free(user(status), "u@x.example")
        return
    with pytest.raises(errors.UserBlocked) as refused:
        check_address_free(user(status), "u@x.example")
    assert "u@x.example" in refused.value.detail
    check_address_free(None, "u@x.example")


def _headcount() -> Headcount:
    return Headcount(active_users=3, active_owners=2)
