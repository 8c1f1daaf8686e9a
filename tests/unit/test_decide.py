"""The one decider, `decide`: each target in order, against the running headcount."""

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from roster.domain import errors
from roster.domain.transitions import Policy
from roster.domain.users import Actor, Headcount, Target, User, decide
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.domain.workspaces import UserCounts

NOW = datetime(2026, 11, 28, tzinfo=UTC)
ACTOR = Actor(id="usr_me", name="Me", user_id="usr_me", role=Role.OWNER)
A, I, B = Status.ACTIVE, Status.INACTIVE, Status.BLOCKED

Result = tuple[str, str | None]


def in_one_batch(
    targets: list[Target], route: Route, policy: Policy, counts: UserCounts
) -> tuple[list[Result], UserCounts]:
    verdicts, after = decide(targets, route=route, actor=ACTOR, policy=policy, counts=counts)
    return [(v.result, v.refusal.code if v.refusal else None) for v in verdicts], after


def one_by_one(
    targets: list[Target], route: Route, policy: Policy, counts: UserCounts
) -> tuple[list[Result], UserCounts]:
    """Each target as its own `User.change_status`, the counts carried from one to the next."""
    results: list[Result] = []
    for t in targets:
        user = User(
            id=t.user_id, workspace_id="ws", email="", name="", role=t.role, status=t.status
        )
        try:
            event = user.change_status(
                t.to,
                route=route,
                actor=ACTOR,
                reason_code=t.reason_code,
                note=t.note,
                now=NOW,
                policy=policy,
                headcount=Headcount(counts.active, counts.active_owners),
            )
        except errors.DomainError as refusal:
            results.append(("refused", refusal.code))
            continue
        results.append(("unchanged", None) if event is None else ("applied", None))
        counts = counts.moved(t.role, t.status, user.status)
    return results, counts


def member(i: int, status: Status, to: Status, note: str | None = None) -> Target:
    return Target(f"usr_{i}", status, Role.MEMBER, to, None, note)


def test_a_seat_limit_lets_the_first_activations_of_a_batch_in_and_refuses_the_rest() -> None:
    targets = [member(i, I, A) for i in range(5)]
    results, after = in_one_batch(targets, Route.BULK, Policy(seat_limit=3), UserCounts(active=1))
    assert results == [("applied", None)] * 2 + [("refused", "seat_limit_reached")] * 3
    assert after == UserCounts(active=3, inactive=-2)


def test_a_seat_freed_earlier_in_the_batch_lets_a_later_activation_in() -> None:
    targets = [member(1, I, A), member(2, A, I), member(3, I, A)]
    results, after = in_one_batch(targets, Route.BULK, Policy(seat_limit=2), UserCounts(active=2))
    assert results == [("refused", "seat_limit_reached"), ("applied", None), ("applied", None)]
    assert after.active == 2


def test_the_last_active_owner_stays_when_a_batch_deactivates_every_owner() -> None:
    owners = [Target(f"usr_{i}", A, Role.OWNER, I, None, None) for i in range(3)]
    results, after = in_one_batch(
        owners, Route.BULK, Policy(), UserCounts(active=3, active_owners=3)
    )
    assert results == [("applied", None)] * 2 + [("refused", "last_owner")]
    assert after == UserCounts(active=1, inactive=2, active_owners=1)


def test_a_blocked_user_in_a_batch_is_refused_with_the_blocked_message_and_not_counted() -> None:
    verdicts, after = decide(
        [member(1, B, A, note="paid"), member(2, I, A)],
        route=Route.BULK,
        actor=ACTOR,
        policy=Policy(),
        counts=UserCounts(active=1, inactive=1, blocked=1),
    )
    assert isinstance(verdicts[0].refusal, errors.UserBlocked)
    assert "only an admin" in verdicts[0].refusal.detail.lower()
    assert verdicts[1].result == "applied"
    assert after == UserCounts(active=2, inactive=0, blocked=1)


def test_same_to_same_is_unchanged_and_moves_no_count() -> None:
    counts = UserCounts(active=4, active_owners=1)
    results, after = in_one_batch([member(1, A, A)], Route.BULK, Policy(seat_limit=4), counts)
    assert (results, after) == ([("unchanged", None)], counts)


def test_an_admin_cannot_change_their_own_status_in_a_batch() -> None:
    me = Target("usr_me", A, Role.ADMIN, I, None, None)
    results, _ = in_one_batch([me], Route.BULK, Policy(), UserCounts(active=2, active_owners=1))
    assert results == [("refused", "cannot_change_own_status")]


REASONS = [None, ReasonCode.OTHER]
NOTES = [None, " ", "checked"]
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


@settings(max_examples=300, deadline=None)
@given(
    changes=changes,
    route=st.sampled_from(Route),
    policy=st.sampled_from(
        [Policy(), Policy(allow_api_unblock=True), Policy(seat_limit=3), Policy(seat_limit=6)]
    ),
    active=st.integers(0, 6),
    owners=st.integers(0, 3),
    actor_at=st.none() | st.integers(0, 29),
)
def test_a_batch_decides_as_the_same_changes_one_by_one(
    changes: list[tuple[Status, Role, Status, ReasonCode | None, str | None]],
    route: Route,
    policy: Policy,
    active: int,
    owners: int,
    actor_at: int | None,
) -> None:
    ids = [ACTOR.user_id if i == actor_at else f"usr_{i:02}" for i in range(len(changes))]
    targets = [
        Target(str(i), frm, role, to, reason, note)
        for i, (frm, role, to, reason, note) in zip(ids, changes, strict=True)
    ]
    counts = UserCounts(active=active, active_owners=owners)
    batch = in_one_batch(targets, route, policy, counts)
    assert batch == one_by_one(targets, route, policy, counts)
