"""Any history of changes, by any route, at any timestamps, gives the usage that a
brute-force recomputation from the final audit log gives, and counts equal to the users.

The brute force shares nothing with domain.billing but the definition: a
transition happens at the latest `at` of the log so far (commit order), the count
at an instant is the replay of every transition at or before it, and a day's
figures are taken over every instant of the day, midnight included.
"""

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from roster.domain import errors
from roster.domain.audit import APPLIED, AuditEntry, AuditKind
from roster.domain.billing import ORIGIN, Transition, active_at, days, usage_by_day
from roster.domain.ids import new_id
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Route, Status
from roster.services.ports import UnitOfWork
from roster.services.status import apply_changes, change_status
from roster.services.users import NewUser, create_user
from roster.services.workspaces import create_workspace, update_settings
from tests.fakes import FakeStore, FakeUnitOfWork

ACTOR = Actor(id=None, name="property")
BASE = datetime(2025, 3, 8, 12, tzinfo=UTC)  # around New York's spring-forward night
ZONES = ["UTC", "America/New_York", "Asia/Kolkata"]

# --- The brute force --------------------------------------------------------------


def timed(log: Sequence[AuditEntry]) -> list[tuple[datetime, AuditEntry]]:
    """Applied status entries in seq order, each with its instant (the running max of
    `at`); admin actions move no headcount."""
    out, clock = [], None
    applied = (e for e in log if e.outcome == APPLIED and e.kind == AuditKind.STATUS)
    for e in sorted(applied, key=lambda e: e.seq):
        clock = e.at if clock is None else max(clock, e.at)
        out.append((clock, e))
    return out


def active_users_at(entries: list[tuple[datetime, AuditEntry]], t: datetime) -> set[str]:
    state: dict[str, Status] = {}
    for instant, e in entries:
        if instant <= t and e.user_id and e.to_status:
            state[e.user_id] = e.to_status
    return {u for u, s in state.items() if s == Status.ACTIVE}


@dataclass(frozen=True)
class Expected:
    day: date
    opening: int
    peak: int
    closing: int
    seat_days: int


def brute_usage(log: Sequence[AuditEntry], first: date, last: date, tz: str) -> list[Expected]:
    entries = timed(log)
    out = []
    d = first
    while d <= last:
        start = datetime(d.year, d.month, d.day, tzinfo=ZoneInfo(tz)).astimezone(UTC)
        nxt = d + timedelta(days=1)
        end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=ZoneInfo(tz)).astimezone(UTC)
        moments = [start, *sorted({i for i, _ in entries if start < i < end})]
        states = [active_users_at(entries, m) for m in moments]
        seats = set().union(*states)
        out.append(
            Expected(
                d,
                len(states[0]),
                max(len(s) for s in states),
                len(states[-1]),
                len(seats),
            )
        )
        d = nxt
    return out


def period_of(log: Sequence[AuditEntry], tz: str) -> tuple[date, date]:
    instants = [i for i, _ in timed(log)]
    zone = ZoneInfo(tz)
    return (
        min(instants).astimezone(zone).date() - timedelta(days=1),
        max(instants).astimezone(zone).date() + timedelta(days=1),
    )


# --- Histories ------------------------------------------------------------------------

# Each step's timestamp moves from the previous one: mostly forward, sometimes not at
# all (same instant), sometimes back (a clock behind, or a backdated `now`).
when = st.one_of(
    st.integers(-180, 600),
    st.just(0),
    st.sampled_from([12 * 60, 24 * 60, -24 * 60]),  # from BASE (noon UTC): midnights
).map(lambda m: timedelta(minutes=m))
statuses = st.sampled_from(list(Status))
routes = st.sampled_from(list(Route))
create = st.tuples(st.just("create"), statuses, when)
explained = st.sampled_from([True, True, True, False])  # mostly with the reason and note needed
change = st.tuples(st.just("change"), st.integers(0, 3), statuses, routes, explained, when)
batch = st.tuples(
    st.just("batch"),
    st.lists(st.tuples(st.integers(0, 3), statuses), min_size=1, max_size=5),
    routes,
    when,
)
snapshot = st.tuples(st.just("snapshot"), when)
steps = st.lists(st.one_of(create, change, batch), min_size=1, max_size=40)
steps_with_snapshots = st.lists(st.one_of(create, change, batch, snapshot), min_size=1, max_size=40)


def play(
    uow: Callable[[], UnitOfWork],
    workspace_id: str,
    user_ids: list[str],
    history: Sequence[tuple[object, ...]],
    on_snapshot: Callable[[datetime], object] = lambda _: None,
) -> None:
    """Run the history through the real services; refusals are part of the history."""
    at = BASE
    for full in history:
        kind, step, shift = full[0], full[:-1], full[-1]
        assert isinstance(shift, timedelta)
        at += shift
        with contextlib.suppress(errors.DomainError):
            if kind == "create":
                _, status = step
                assert isinstance(status, Status)
                reason = ReasonCode.OTHER if status == Status.BLOCKED else None
                email = f"u{len(user_ids)}@x.example"
                user = create_user(
                    uow(),
                    workspace_id=workspace_id,
                    new=NewUser(email, "U", status=status, reason_code=reason),
                    route=Route.CLI,
                    actor=ACTOR,
                    now=at,
                )
                user_ids.append(user.id)
            elif kind == "change":
                _, index, to, route, explained = step
                assert isinstance(index, int)
                assert isinstance(to, Status)
                assert isinstance(route, Route)
                change_status(
                    uow(),
                    workspace_id=workspace_id,
                    user_id=user_ids[index % len(user_ids)],
                    to=to,
                    route=route,
                    actor=ACTOR,
                    reason_code=ReasonCode.OTHER if explained else None,
                    note="why" if explained else None,
                    now=at,
                )
            elif kind == "batch":
                _, pairs, route = step
                assert isinstance(pairs, list)
                assert isinstance(route, Route)
                unit = uow()
                with unit:
                    apply_changes(
                        unit,
                        workspace_id=workspace_id,
                        targets=[(user_ids[i % len(user_ids)], to) for i, to in pairs],
                        route=route,
                        actor=ACTOR,
                        reason_code=ReasonCode.OTHER,
                        note="batch",
                        now=at,
                        batch_id=new_id("bat"),
                    )
                    unit.commit()
            else:
                on_snapshot(at)


# --- On the in-memory fakes: the arithmetic itself, many examples -----------------------


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(  # Active at midnight, leaves and comes back the same day: one seat-day
    history=[
        ("create", Status.ACTIVE, timedelta(0)),
        ("change", 1, Status.INACTIVE, Route.CLI, True, timedelta(hours=13)),
        ("change", 1, Status.ACTIVE, Route.CLI, True, timedelta(hours=1)),
    ],
    tz="UTC",
    seat_limit=None,
)
@example(  # A change at midnight exactly belongs to the day it opens
    history=[
        ("create", Status.ACTIVE, timedelta(0)),
        ("change", 1, Status.INACTIVE, Route.CLI, True, timedelta(hours=12)),
    ],
    tz="UTC",
    seat_limit=None,
)
@given(
    history=steps,
    tz=st.sampled_from(ZONES),
    seat_limit=st.one_of(st.none(), st.none(), st.integers(1, 5)),
)
def test_usage_equals_brute_force_on_any_history(
    history: list[tuple[object, ...]], tz: str, seat_limit: int | None
) -> None:
    store = FakeStore()
    workspace, owner = create_workspace(
        FakeUnitOfWork(store),
        slug="w",
        name=None,
        owner=NewUser("o@x.example", "O"),
        route=Route.CLI,
        actor=ACTOR,
        now=BASE,
    )
    update_settings(
        FakeUnitOfWork(store),
        workspace_id=workspace.id,
        seat_limit=seat_limit,
        route=Route.CLI,
        actor=Actor(None, "cli:test"),
        now=BASE,
    )
    store.workspaces[workspace.id].timezone = tz
    play(lambda: FakeUnitOfWork(store), workspace.id, [owner.id], history)

    first, last = period_of(store.audit, tz)
    ts = [
        Transition(e.seq, e.user_id, e.from_status, e.to_status, e.at)
        for e in store.audit
        if e.outcome == APPLIED and e.user_id is not None and e.to_status is not None
    ]
    got = usage_by_day(days(first, last, tz), ORIGIN, ts)
    expected = brute_usage(store.audit, first, last, tz)
    assert [Expected(d.day, d.opening, d.peak, d.closing, d.seat_days) for d in got] == expected

    entries = timed(store.audit)
    for instant, _ in entries:
        for t in (instant - timedelta(microseconds=1), instant):
            assert active_at(ORIGIN, ts, t) == len(active_users_at(entries, t))

    in_table = [u.status for u in store.users.values()]
    counts = store.counts[workspace.id]
    assert (counts.active, counts.inactive, counts.blocked) == tuple(
        in_table.count(s) for s in (Status.ACTIVE, Status.INACTIVE, Status.BLOCKED)
    )
