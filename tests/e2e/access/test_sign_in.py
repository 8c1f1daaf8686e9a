"""Signing in: one generic answer for wrong credentials, a clear one for Inactive
and Blocked accounts, the sign_in flow, rehash on login, and throttling."""

from collections.abc import Iterator
from dataclasses import replace

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select

from roster.adapters import passwords
from roster.adapters.tables import sign_in_throttles, users
from roster.bootstrap import Container
from roster.domain.users import Actor
from roster.domain.vocabulary import Role, Route, Status
from roster.entrypoints.web import background
from roster.entrypoints.web.app import create_app
from roster.services import access
from roster.services.users import NewUser, create_user
from roster.services.workspaces import update_settings
from tests.conftest import CLI_ACTOR, Tenant
from tests.e2e.access.conftest import Clock, bearer, history, sign_in, status_of
from tests.e2e.admin.conftest import sign_in as dashboard_sign_in
from tests.e2e.conftest import PASSWORD, add_user


@pytest.fixture
def verifies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Argon2id verification a sign-in makes, by the hash it checked against."""
    calls: list[str] = []
    real = passwords.verify_password

    def counted(stored: str, password: str) -> bool:
        calls.append("dummy" if stored == passwords.DUMMY_HASH else "account")
        return real(stored, password)

    monkeypatch.setattr("roster.services.access.verify_password", counted)
    return calls


def test_unknown_emails_and_workspaces_cost_exactly_one_verification_like_known_ones(
    client: TestClient, container: Container, tenant: Tenant, verifies: list[str]
) -> None:
    add_user(container, tenant, "known@x.example")
    add_user(container, tenant, "nopass@x.example", password=False)
    attempts = [
        (tenant.workspace.slug, "known@x.example", "wrong"),
        (tenant.workspace.slug, "nobody@x.example", "wrong"),
        (tenant.workspace.slug, "nopass@x.example", "wrong"),
        (tenant.workspace.slug, "not an email", "wrong"),
        ("no-such-workspace", "known@x.example", PASSWORD),
    ]
    details = set()
    for workspace, email, password in attempts:
        before = len(verifies)
        r = client.post(
            "/api/v1/auth/sessions",
            json={"workspace": workspace, "email": email, "password": password},
        )
        assert r.status_code == 401
        assert len(verifies) == before + 1
        details.add(r.json()["detail"])
    assert details == {access.WRONG_CREDENTIALS}
    assert verifies == ["account", "dummy", "dummy", "dummy", "dummy"]


def test_the_dummy_hash_costs_what_a_real_one_costs() -> None:
    """Same algorithm and parameters, so the unknown-email verification takes the
    same work as a known one (checked on the hash itself, not on a stopwatch)."""
    params = passwords.DUMMY_HASH.split("$")[1:4]
    real = passwords.hash_password("anything").split("$")[1:4]
    assert params == real == ["argon2id", "v=19", "m=19456,t=2,p=1"]


def test_an_inactive_account_with_the_right_password_is_told_whom_to_ask(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    uid = add_user(container, tenant, "ina@x.example", status=Status.INACTIVE)
    r = sign_in(client, tenant, "ina@x.example")
    assert (r.status_code, r.json()["code"]) == (403, "user_inactive")
    assert "Inactive" in r.json()["detail"]
    assert "Ask an admin" in r.json()["detail"]
    assert sign_in(client, tenant, "ina@x.example", "wrong").json()["detail"] == (
        access.WRONG_CREDENTIALS
    )
    assert [e.route for e in history(container, tenant, uid)] == [Route.CLI]


def _answer(r: Response) -> tuple[int, dict[str, object], dict[str, str]]:
    """What a caller sees of a sign-in answer (all but the date and the request id)."""
    headers = {k: v for k, v in r.headers.items() if k not in ("date", "x-request-id")}
    return r.status_code, r.json(), headers


@pytest.mark.parametrize("reactivate", [False, True])
def test_a_right_password_hears_inactive_or_blocked_and_a_wrong_one_hears_nothing(
    client: TestClient, container: Container, tenant: Tenant, reactivate: bool
) -> None:
    update_settings(
        container.uow(),
        workspace_id=tenant.id,
        reactivate_on_sign_in=reactivate,
        route=Route.CLI,
        actor=CLI_ACTOR,
        now=container.clock(),
    )
    add_user(container, tenant, "ina2@x.example", status=Status.INACTIVE)
    add_user(container, tenant, "blk2@x.example", status=Status.BLOCKED)
    blocked = sign_in(client, tenant, "blk2@x.example")
    assert (blocked.status_code, blocked.json()["code"]) == (403, "user_blocked")
    assert blocked.json()["detail"] == (
        f"This account is Blocked in {tenant.workspace.name}. Only an admin of "
        f"{tenant.workspace.name} can lift the block: please contact them."
    )
    if not reactivate:
        inactive = sign_in(client, tenant, "ina2@x.example")
        assert (inactive.status_code, inactive.json()["code"]) == (403, "user_inactive")
    stranger = _answer(sign_in(client, tenant, "nobody2@x.example", "wrong"))
    assert stranger[0] == 401
    for email in ("ina2@x.example", "blk2@x.example"):
        assert _answer(sign_in(client, tenant, email, "wrong")) == stranger


@pytest.mark.parametrize("reactivate", [False, True])
def test_every_refused_sign_in_of_a_blocked_user_is_audited_on_route_sign_in(
    client: TestClient, container: Container, tenant: Tenant, reactivate: bool
) -> None:
    update_settings(
        container.uow(),
        workspace_id=tenant.id,
        reactivate_on_sign_in=reactivate,
        route=Route.CLI,
        actor=CLI_ACTOR,
        now=container.clock(),
    )
    uid = add_user(container, tenant, "blk3@x.example", status=Status.BLOCKED)
    assert sign_in(client, tenant, "blk3@x.example").status_code == 403
    assert sign_in(client, tenant, "blk3@x.example").status_code == 403
    refused = [e for e in history(container, tenant, uid) if e.route == Route.SIGN_IN]
    assert [(e.from_status, e.to_status, e.outcome, e.actor_id) for e in refused] == [
        (Status.BLOCKED, Status.ACTIVE, "user_blocked", uid)
    ] * 2
    assert status_of(container, tenant, uid) == "blocked"


def test_the_dashboard_sign_in_says_inactive_or_blocked_in_plain_words(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    add_user(container, tenant, "ina4@x.example", role=Role.ADMIN, status=Status.INACTIVE)
    add_user(container, tenant, "blk4@x.example", role=Role.ADMIN, status=Status.BLOCKED)
    page = dashboard_sign_in(client, tenant, "ina4@x.example")
    assert page.status_code == 403
    assert f"This account is Inactive in {tenant.workspace.name}." in page.text
    page = dashboard_sign_in(client, tenant, "blk4@x.example")
    assert page.status_code == 403
    assert "Only an admin of" in page.text
    assert "can lift the block" in page.text
    wrong = dashboard_sign_in(client, tenant, "blk4@x.example", "wrong")
    assert wrong.status_code == 401
    assert "Blocked" not in wrong.text


def test_reactivate_on_sign_in_brings_an_inactive_user_back_through_route_sign_in(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    update_settings(
        container.uow(),
        workspace_id=tenant.id,
        reactivate_on_sign_in=True,
        route=Route.CLI,
        actor=Actor(None, "cli:test"),
        now=container.clock(),
    )
    uid = add_user(container, tenant, "back@x.example", status=Status.INACTIVE)
    r = sign_in(client, tenant, "back@x.example")
    assert r.status_code == 201
    assert client.get("/api/v1/me", headers=bearer(r)).json()["status"] == "active"
    last = history(container, tenant, uid)[-1]
    assert (last.from_status, last.to_status, last.route, last.outcome) == (
        Status.INACTIVE,
        Status.ACTIVE,
        Route.SIGN_IN,
        "applied",
    )
    assert last.actor_id == uid


def test_reactivate_on_sign_in_never_unblocks_and_the_refusal_is_audited(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    update_settings(
        container.uow(),
        workspace_id=tenant.id,
        reactivate_on_sign_in=True,
        route=Route.CLI,
        actor=Actor(None, "cli:test"),
        now=container.clock(),
    )
    uid = add_user(container, tenant, "blk@x.example", status=Status.BLOCKED)
    r = sign_in(client, tenant, "blk@x.example")
    assert r.status_code == 403
    assert "Blocked" in r.json()["detail"]
    assert "Only an admin" in r.json()["detail"]
    assert status_of(container, tenant, uid) == "blocked"
    last = history(container, tenant, uid)[-1]
    assert (last.route, last.outcome) == (Route.SIGN_IN, "user_blocked")


def test_reactivate_on_sign_in_leaves_an_active_user_unchanged_without_an_event(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    update_settings(
        container.uow(),
        workspace_id=tenant.id,
        reactivate_on_sign_in=True,
        route=Route.CLI,
        actor=Actor(None, "cli:test"),
        now=container.clock(),
    )
    uid = add_user(container, tenant, "act@x.example")
    assert sign_in(client, tenant, "act@x.example").status_code == 201
    assert [e.route for e in history(container, tenant, uid)] == [Route.CLI]


def test_reactivate_on_sign_in_respects_the_seat_limit(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    uid = add_user(container, tenant, "full@x.example", status=Status.INACTIVE)
    update_settings(
        container.uow(),
        workspace_id=tenant.id,
        reactivate_on_sign_in=True,
        seat_limit=1,
        route=Route.CLI,
        actor=Actor(None, "cli:test"),
        now=container.clock(),
    )
    r = sign_in(client, tenant, "full@x.example")
    assert r.status_code == 403
    assert "no free seat" in r.json()["detail"]
    assert history(container, tenant, uid)[-1].outcome == "seat_limit_reached"
    assert status_of(container, tenant, uid) == "inactive"


def test_a_password_hashed_at_old_parameters_is_rehashed_on_sign_in(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    user = create_user(
        container.uow(),
        workspace_id=tenant.id,
        new=NewUser("old@x.example", "Old", password_hash=weak),
        route=Route.CLI,
        actor=Actor(id=None, name="cli:test"),
        now=container.clock(),
    )
    assert sign_in(client, tenant, "old@x.example").status_code == 201
    with container.engine.connect() as conn:
        stored = conn.execute(
            select(users.c.password_hash).where(
                users.c.workspace_id == tenant.id, users.c.id == user.id
            )
        ).scalar_one()
    assert stored != weak
    assert not passwords.needs_rehash(stored)
    assert sign_in(client, tenant, "old@x.example").status_code == 201


def test_sign_out_ends_the_session_at_once(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    add_user(container, tenant, "out@x.example")
    headers = bearer(sign_in(client, tenant, "out@x.example"))
    assert client.delete("/api/v1/auth/sessions/current", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


@pytest.fixture
def second_client(timed: Container) -> Iterator[TestClient]:
    """Another server process on the same database: its own engine and app."""
    from roster.adapters.database import make_engine

    engine = make_engine(str(timed.engine.url.render_as_string(hide_password=False)))
    with TestClient(create_app(replace(timed, engine=engine))) as c:
        yield c
    engine.dispose()


def test_failed_sign_ins_per_account_are_throttled_across_server_processes(
    timed_client: TestClient,
    second_client: TestClient,
    timed: Container,
    tenant: Tenant,
    clock: Clock,
) -> None:
    uid = add_user(timed, tenant, "tgt@x.example")
    for attempt in range(5):
        server = timed_client if attempt % 2 else second_client
        assert sign_in(server, tenant, "tgt@x.example", "wrong").status_code == 401
    for server in (timed_client, second_client):
        r = sign_in(server, tenant, "tgt@x.example")  # even the right password waits
        assert (r.status_code, r.json()["code"]) == (429, "too_many_requests")
        assert r.headers["Retry-After"] == "60"
    assert status_of(timed, tenant, uid) == "active"  # a throttle is not a status
    assert [e.route for e in history(timed, tenant, uid)] == [Route.CLI]
    clock.advance(seconds=61)
    assert sign_in(timed_client, tenant, "tgt@x.example").status_code == 201
    assert sign_in(timed_client, tenant, "tgt@x.example", "wrong").status_code == 401


def test_a_throttled_unknown_email_answers_exactly_like_a_throttled_known_one(
    timed_client: TestClient, timed: Container, tenant: Tenant, verifies: list[str]
) -> None:
    add_user(timed, tenant, "real@x.example")
    answers = []
    for email in ("real@x.example", "ghost@x.example"):
        for _ in range(5):
            sign_in(timed_client, tenant, email, "wrong")
        before = len(verifies)
        answers.append(sign_in(timed_client, tenant, email, "wrong"))
        assert len(verifies) == before  # no hashing while throttled
    assert [a.status_code for a in answers] == [429, 429]
    assert answers[0].json()["detail"] == answers[1].json()["detail"]
    assert answers[0].headers["Retry-After"] == answers[1].headers["Retry-After"]


def test_failed_sign_ins_per_client_address_are_throttled_across_accounts(
    timed_client: TestClient, timed: Container, tenant: Tenant, clock: Clock
) -> None:
    add_user(timed, tenant, "fine@x.example")
    for n in range(20):
        assert sign_in(timed_client, tenant, f"spray{n}@x.example", "wrong").status_code == 401
    r = sign_in(timed_client, tenant, "fine@x.example")
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    clock.advance(minutes=2)
    assert sign_in(timed_client, tenant, "fine@x.example").status_code == 201


def test_the_dashboard_sign_in_is_throttled_per_client_address_too(
    timed_client: TestClient, timed: Container, tenant: Tenant, clock: Clock
) -> None:
    add_user(timed, tenant, "admin-ok@x.example", role=Role.ADMIN)
    for n in range(20):
        page = dashboard_sign_in(timed_client, tenant, f"spray{n}@x.example", "wrong")
        assert page.status_code == 401
    page = dashboard_sign_in(timed_client, tenant, "admin-ok@x.example")
    assert page.status_code == 429
    assert int(page.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in page.text
    clock.advance(minutes=2)
    assert dashboard_sign_in(timed_client, tenant, "admin-ok@x.example").status_code == 303


def test_the_server_forgets_throttle_counters_once_they_no_longer_count(
    timed_client: TestClient, timed: Container, tenant: Tenant, clock: Clock
) -> None:
    for _ in range(5):
        sign_in(timed_client, tenant, "old@x.example", "wrong")
    clock.advance(minutes=10)
    sign_in(timed_client, tenant, "recent@x.example", "wrong")
    clock.advance(minutes=6)  # the first window (15 min) and its block are over

    background.PRUNE.next = None
    background.prune_throttles(timed)

    with timed.engine.connect() as conn:
        keys = set(conn.execute(select(sign_in_throttles.c.key)).scalars())
    # The address's window opened with the first failure, 16 minutes ago: it is over
    # too, so its next failure would start a fresh count anyway.
    assert keys == {"account:recent@x.example"}
    # Forgetting changes nothing a user sees: the old account signs in afresh.
    assert sign_in(timed_client, tenant, "old@x.example", "wrong").status_code == 401
