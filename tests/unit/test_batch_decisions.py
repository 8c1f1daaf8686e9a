"""A batch's decisions (decide_many) are the ones `User.change_status` makes user by
user, in order, with the running headcount: for every case the rules distinguish."""

from datetime import UTC, datetime
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from roster.domain import errors
from roster.domain.batch_decisions import Wanted, decide_many
from roster.domain.transitions import Policy
from roster.domain.users import Actor, Headcount, User
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.domain.workspaces import UserCounts

NOW = datetime(2026, 11, 28, tzinfo=UTC)
ACTOR = Actor(id="usr_me", name="Me", user_id="usr_me", role=Role.OWNER)
AN_ADMIN = Actor(id="usr_me", name="Me", user_id="usr_me", role=Role.ADMIN)  # the owner rule
POLICIES = [Policy(), Policy(allow_api_unblock=True), Policy(seat_limit=3)]
REASONS = [None, ReasonCode.OTHER]
NOTES = [None, " ", "checked"]


def one_by_one(
    users: list[User],
    wanted: list[Wanted],
    route: Route,
    policy: Policy,
    counts: UserCounts,
    actor: Actor = ACTOR,
) -> tuple[list[tuple[str, str | None]], UserCounts]:
    """What a loop of `User.change_status` decides, with the running headcount."""
    by_id = {u.id: u for u in users}
    results: list[tuple[str, str | None]] = []
    for w in wanted:
        user = by_id[w.user_id]
        before = user.status
        try:
            event = user.change_status(
                w.to,
                route=route,
                actor=actor,
                reason_code=w.reason_code,
                note=w.note,
                now=NOW,
                policy=policy,
                headcount=Headcount(counts.active, counts.active_owners),
            )
        except errors.DomainError as refusal:
            results.append(("refused", refusal.code))
            continue
        if event is None:
            results.append(("unchanged", None))
            continue
        counts = counts.moved(user.role, before, user.status)
        results.append(("applied", None))
    return results, counts


def batch(
    wanted: list[Wanted], route: Route, policy: Policy, counts: UserCounts, actor: Actor = ACTOR
) -> tuple[list[tuple[str, str | None]], UserCounts]:
    verdicts, after = decide_many(wanted, route=route, actor=actor, policy=policy, counts=counts)
    return [(v.result, v.refusal.code if v.refusal else None) for v in verdicts], after


def user(user_id: str, status: Status, role: Role) -> User:
    return User(id=user_id, workspace_id="ws", email="", name="", role=role, status=status)


def test_every_single_change_is_decided_as_change_status_decides_it() -> None:
    cases = product(
        Status, Status, Route, Role, POLICIES, REASONS, NOTES, (False, True), (2, 3), (1, 2)
    )
    for frm, to, route, role, policy, reason, note, is_actor, active, owners in cases:
        user_id = ACTOR.user_id if is_actor else "usr_other"
        assert user_id is not None
        wanted = [Wanted(user_id, frm, role, to, reason, note)]
        counts = UserCounts(active=active, active_owners=owners)
        for actor in (ACTOR, AN_ADMIN):
            expected = one_by_one([user(user_id, frm, role)], wanted, route, policy, counts, actor)
            got = batch(wanted, route, policy, counts, actor)
            assert got == expected, (wanted, route, policy, counts, actor)


changes = st.lists(
    st.tuples(
        st.sampled_from(Status),
        st.sampled_from(Role),
        st.sampled_from(Status),
        st.sampled_from(REASONS),
        st.sampled_from(NOTES),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=400, deadline=None)
@given(
    changes=changes,
    route=st.sampled_from(Route),
    policy=st.sampled_from([*POLICIES, Policy(seat_limit=6)]),
    active=st.integers(0, 6),
    owners=st.integers(0, 3),
    actor_at=st.none() | st.integers(0, 29),
    actor=st.sampled_from([ACTOR, AN_ADMIN]),
)
def test_a_batch_is_decided_as_a_loop_of_change_status_with_the_running_headcount(
    changes: list[tuple[Status, Role, Status, ReasonCode | None, str | None]],
    route: Route,
    policy: Policy,
    active: int,
    owners: int,
    actor_at: int | None,
    actor: Actor,
) -> None:
    ids = [ACTOR.user_id if i == actor_at else f"usr_{i:02}" for i in range(len(changes))]
    wanted = [
        Wanted(str(i), frm, role, to, reason, note)
        for i, (frm, role, to, reason, note) in zip(ids, changes, strict=True)
    ]
    users = [user(w.user_id, w.status, w.role) for w in wanted]
    counts = UserCounts(active=active, active_owners=owners)
    expected = one_by_one(users, wanted, route, policy, counts, actor)
    assert batch(wanted, route, policy, counts, actor) == expected


def test_a_seat_limit_lets_the_first_activations_in_and_refuses_the_rest() -> None:
    wanted = [
        Wanted(f"usr_{i}", Status.INACTIVE, Role.MEMBER, Status.ACTIVE, None, None)
        for i in range(5)
    ]
    results, after = batch(wanted, Route.BULK, Policy(seat_limit=3), UserCounts(active=1))
    assert results == [("applied", None)] * 2 + [("refused", "seat_limit_reached")] * 3
    assert after == UserCounts(active=3, inactive=-2)


def test_the_last_active_owner_stays_when_a_batch_deactivates_every_owner() -> None:
    wanted = [
        Wanted(f"usr_{i}", Status.ACTIVE, Role.OWNER, Status.INACTIVE, None, None) for i in range(3)
    ]
    results, after = batch(wanted, Route.BULK, Policy(), UserCounts(active=3, active_owners=3))
    assert results == [("applied", None)] * 2 + [("refused", "last_owner")]
    assert after == UserCounts(active=1, inactive=2, active_owners=1)
