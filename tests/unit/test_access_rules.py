"""The throttle's arithmetic and the invitation rules, without a database."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from roster.domain import errors
from roster.domain.invitations import Invitation, check_invitation
from roster.domain.throttles import Counter
from roster.domain.transitions import Policy
from roster.domain.users import Actor, User
from roster.domain.vocabulary import Role, Status
from roster.domain.workspaces import UserCounts
from roster.services.throttle import Keys, Limits, failed

T0 = datetime(2026, 1, 1, tzinfo=UTC)
LIMITS = Limits(account_failures=3, first_block=timedelta(minutes=1))
ADMIN = Actor(id="usr_admin", name="Ada", user_id="usr_admin")
ROOMY = UserCounts(active=1, active_owners=1)


def _fail(times: int, counter: Counter | None = None, at: datetime = T0) -> Counter:
    counter = counter or Counter(0, at, None)
    for _ in range(times):
        counter = failed(counter, at, LIMITS.account_failures, LIMITS)
    return counter


def test_failures_below_the_limit_do_not_block() -> None:
    assert _fail(2) == Counter(2, T0, None)


def test_the_limit_blocks_and_each_further_failure_doubles_the_block_up_to_the_cap() -> None:
    assert _fail(3).blocked_until == T0 + timedelta(minutes=1)
    assert _fail(4).blocked_until == T0 + timedelta(minutes=2)
    assert _fail(30).blocked_until == T0 + LIMITS.max_block


def test_a_new_window_starts_once_the_old_one_and_its_block_are_over() -> None:
    later = T0 + LIMITS.window + timedelta(seconds=1)
    assert _fail(1, _fail(3), at=later) == Counter(1, later, None)


def test_keys_name_the_account_and_the_address_in_the_workspace() -> None:
    keys = Keys.of(None, "a@x.example", "10.0.0.1")
    assert (keys.workspace_id, keys.all()) == ("?", ["account:a@x.example", "address:10.0.0.1"])
    assert Keys.of("ws_1", "a@x.example", None).all() == ["account:a@x.example"]


def _user(status: Status) -> User:
    return User("usr_1", "ws_1", "u@x.example", "U", Role.MEMBER, status)


def test_a_blocked_user_cannot_be_invited() -> None:
    with pytest.raises(errors.UserBlocked):
        check_invitation(_user(Status.BLOCKED), actor=ADMIN, policy=Policy(), counts=ROOMY)


def test_an_active_user_needs_no_invitation() -> None:
    with pytest.raises(errors.InvalidInput):
        check_invitation(_user(Status.ACTIVE), actor=ADMIN, policy=Policy(), counts=ROOMY)


@pytest.mark.parametrize("invitee", [None, _user(Status.INACTIVE)])
def test_new_and_inactive_invitees_need_a_free_seat(invitee: User | None) -> None:
    check_invitation(invitee, actor=ADMIN, policy=Policy(seat_limit=2), counts=ROOMY)
    with pytest.raises(errors.SeatLimitReached):
        check_invitation(invitee, actor=ADMIN, policy=Policy(seat_limit=1), counts=ROOMY)


def test_an_invitation_reads_its_state_from_its_dates() -> None:
    pending = Invitation("inv_1", "ws_1", "a@x", None, Role.MEMBER, None, T0, T0 + timedelta(1))
    assert pending.state(T0) == "pending"
    assert pending.state(T0 + timedelta(2)) == "expired"
    assert replace(pending, accepted_at=T0).state(T0) == "accepted"
    assert replace(pending, revoked_at=T0).state(T0) == "revoked"
