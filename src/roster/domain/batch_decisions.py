"""Deciding many status changes at once, exactly as one by one would.

A chunk of a bulk action asks the same question of thousands of users, and most of
them look alike to the rules: `check_transition` reads only a user's status and role,
whether they are the actor, the target, reason and note, and, for the last-owner and
seat-limit rules alone, the workspace's headcount (`reads_headcount`). So each
distinct question is answered once by `check_transition` and the answer reused, and
a question the headcount may decide is answered user by user with the running
headcount, as `User.change_status` in a loop would answer it.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from roster.domain import errors
from roster.domain.transitions import Policy
from roster.domain.users import Actor, Headcount, check_transition, reads_headcount
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.domain.workspaces import UserCounts


class Wanted(NamedTuple):
    """One user's change as a batch asks for it: who they are now, and what to."""

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
    result: Literal["applied", "unchanged", "refused"]
    refusal: errors.DomainError | None = None


APPLIED = Verdict("applied")
UNCHANGED = Verdict("unchanged")


def decide_many(
    wanted: Sequence[Wanted],
    *,
    route: Route,
    actor: Actor,
    policy: Policy,
    counts: UserCounts,
) -> tuple[list[Verdict], UserCounts]:
    """The verdict on each change in order, and the counts once the applied ones are
    made. Nothing is changed: the caller writes what was applied."""
    verdicts: list[Verdict] = []
    answers: dict[tuple[object, ...], Verdict | None] = {}  # None: the headcount decides
    moves: Counter[tuple[Role, Status, Status]] = Counter()  # applied, not yet in `counts`
    for w in wanted:
        key = (w.status, w.role, w.to, w.reason_code, w.note, w.user_id == actor.user_id)
        try:
            verdict = answers[key]
        except KeyError:
            verdict = answers[key] = _first_of_kind(w, route, actor, policy, counts)
        if verdict is None:
            counts = _moved(counts, moves)
            verdict = _verdict(w, route, actor, policy, counts)
        if verdict is APPLIED:
            moves[(w.role, w.status, w.to)] += 1
        verdicts.append(verdict)
    return verdicts, _moved(counts, moves)


def _first_of_kind(
    w: Wanted, route: Route, actor: Actor, policy: Policy, counts: UserCounts
) -> Verdict | None:
    """The verdict on every change like `w`, or None when the headcount decides each."""
    if w.status == w.to:
        return UNCHANGED
    if reads_headcount(w.status, w.role, w.to, policy):
        return None
    return _verdict(w, route, actor, policy, counts)


def _verdict(w: Wanted, route: Route, actor: Actor, policy: Policy, counts: UserCounts) -> Verdict:
    try:
        check_transition(
            w.user_id,
            w.status,
            w.role,
            w.to,
            route=route,
            actor=actor,
            reason_code=w.reason_code,
            note=w.note,
            policy=policy,
            headcount=Headcount(counts.active, counts.active_owners),
        )
    except errors.DomainError as refusal:
        return Verdict("refused", refusal)
    return APPLIED


def _moved(counts: UserCounts, moves: Counter[tuple[Role, Status, Status]]) -> UserCounts:
    """`counts` with the pending `moves` made (and `moves` emptied)."""
    for (role, before, after), times in moves.items():
        counts = counts.moved(role, before, after, times)
    moves.clear()
    return counts
