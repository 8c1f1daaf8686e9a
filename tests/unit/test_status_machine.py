"""Random sequences of changes by every route, checked after every step."""

from datetime import UTC, datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from roster.domain import errors
from roster.domain.audit import APPLIED, replay
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services.status import apply_changes, change_status
from roster.services.users import NewUser, add_users
from roster.services.workspaces import create_workspace, update_settings
from tests.fakes import FakeStore, FakeUnitOfWork

UNBLOCK_ROUTES = {Route.ADMIN_PROFILE, Route.CLI}
T0 = datetime(2026, 1, 1, tzinfo=UTC)
ROLES = [Role.OWNER, Role.OWNER, Role.ADMIN, Role.ADMIN, Role.MEMBER, Role.MEMBER, Role.MEMBER]


class StatusMachine(RuleBasedStateMachine):
    @initialize()
    def workspace(self) -> None:
        self.store = FakeStore()
        self.uow = FakeUnitOfWork(self.store)
        self.tick = 0
        cli = Actor(id=None, name="cli:test")
        ws, owner = create_workspace(
            self.uow,
            slug="acme",
            name=None,
            route=Route.CLI,
            actor=cli,
            now=T0,
            owner=NewUser("o0@x.example", "O"),
        )
        self.ws = ws.id
        with self.uow:
            others = add_users(
                self.uow,
                workspace_id=ws.id,
                route=Route.CLI,
                actor=cli,
                now=T0,
                batch_id=None,
                new=[
                    NewUser(f"u{i}@x.example", f"U{i}", role) for i, role in enumerate(ROLES[1:], 1)
                ],
            )
            self.uow.commit()
        self.ids = [owner.id, *(u.id for u in others)]
        self.refusals = 0
        self.api_unblock = False

    def now(self) -> datetime:
        self.tick += 1
        return T0 + timedelta(seconds=self.tick)

    def actor(self, index: int) -> Actor:
        uid = self.ids[index]
        return Actor(id=uid, name=f"user {index}", user_id=uid)

    def statuses(self) -> dict[str, Status]:
        return {u.id: u.status for u in self.store.users.values()}

    @rule(
        who=st.integers(0, 6),
        actor=st.integers(0, 6),
        to=st.sampled_from(Status),
        route=st.sampled_from(Route),
        reason=st.none() | st.sampled_from(ReasonCode),
        note=st.none() | st.just("because"),
    )
    def change_one(
        self,
        who: int,
        actor: int,
        to: Status,
        route: Route,
        reason: ReasonCode | None,
        note: str | None,
    ) -> None:
        before = self.statuses()[self.ids[who]]
        try:
            change_status(
                self.uow,
                workspace_id=self.ws,
                user_id=self.ids[who],
                to=to,
                route=route,
                actor=self.actor(actor),
                reason_code=reason,
                note=note,
                now=self.now(),
            )
        except errors.DomainError:
            self.refusals += 1
        self.check_block_kept(self.ids[who], before, route)

    @rule(
        picks=st.lists(st.integers(0, 6), min_size=1, max_size=7),
        to=st.sampled_from(Status),
        reason=st.none() | st.sampled_from(ReasonCode),
        actor=st.integers(0, 6),
    )
    def bulk(self, picks: list[int], to: Status, reason: ReasonCode | None, actor: int) -> None:
        before = self.statuses()
        with self.uow:
            outcomes, _ = apply_changes(
                self.uow,
                workspace_id=self.ws,
                targets=[(self.ids[t], to) for t in picks],
                route=Route.BULK,
                actor=self.actor(actor),
                reason_code=reason,
                note=None,
                now=self.now(),
                batch_id="bat_test",
            )
            self.uow.commit()
        self.refusals += sum(o.result == "refused" for o in outcomes)
        for uid, status in before.items():
            self.check_block_kept(uid, status, Route.BULK)

    @rule(on=st.booleans())
    def toggle_api_unblock(self, on: bool) -> None:
        update_settings(
            self.uow,
            workspace_id=self.ws,
            allow_api_unblock=on,
            route=Route.CLI,
            actor=Actor(None, "cli:test"),
            now=self.now(),
        )
        self.api_unblock = on

    @rule(limit=st.none() | st.integers(0, 8))
    def seat_limit(self, limit: int | None) -> None:
        update_settings(
            self.uow,
            workspace_id=self.ws,
            seat_limit=limit,
            route=Route.CLI,
            actor=Actor(None, "cli:test"),
            now=self.now(),
        )

    def check_block_kept(self, uid: str, before: Status, route: Route) -> None:
        after = self.statuses()[uid]
        if before == Status.BLOCKED and after != Status.BLOCKED:
            allowed = UNBLOCK_ROUTES | ({Route.ADMIN_API} if self.api_unblock else set())
            assert route in allowed, f"{route} lifted a block"

    @invariant()
    def counter_is_exact(self) -> None:
        counts = self.store.counts[self.ws]
        statuses = list(self.statuses().values())
        assert counts.active == statuses.count(Status.ACTIVE)
        assert counts.inactive == statuses.count(Status.INACTIVE)
        assert counts.blocked == statuses.count(Status.BLOCKED)
        assert counts.active_owners == sum(
            u.status == Status.ACTIVE and u.role == Role.OWNER for u in self.store.users.values()
        )

    @invariant()
    def replaying_the_audit_gives_every_status(self) -> None:
        assert replay(self.store.audit) == self.statuses()

    @invariant()
    def every_refusal_is_audited(self) -> None:
        assert sum(e.outcome != APPLIED for e in self.store.audit) == self.refusals

    @invariant()
    def a_workspace_always_keeps_an_active_owner(self) -> None:
        assert self.store.counts[self.ws].active_owners >= 1


TestStatusMachine = StatusMachine.TestCase
TestStatusMachine.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
