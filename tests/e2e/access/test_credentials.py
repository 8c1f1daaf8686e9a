"""Every credential stops on the very next request after its user leaves Active,
whatever route moved them; introspection agrees at every step."""

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from roster.adapters import credential_store
from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.ids import new_id
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.entrypoints.web.admin.rendering import when
from roster.services.access import sign_in
from roster.services.status import apply_changes, change_status
from tests.conftest import Tenant
from tests.e2e.access.conftest import Clock, bearer
from tests.e2e.access.conftest import sign_in as api_sign_in
from tests.e2e.admin.conftest import sign_in as dashboard_sign_in
from tests.e2e.conftest import PASSWORD, add_user, token_for

Changer = Callable[[TestClient, Container, Tenant, str], None]


def _by_admin_api(client: TestClient, container: Container, tenant: Tenant, uid: str) -> None:
    owner = token_for(container, tenant, CredentialKind.PERSONAL)
    body = {"status": "blocked", "reason_code": "access_violation"}
    assert client.put(f"/api/v1/users/{uid}/status", json=body, headers=owner).status_code == 200


def _by_automation(client: TestClient, container: Container, tenant: Tenant, uid: str) -> None:
    service = token_for(container, tenant, CredentialKind.SERVICE)
    r = client.put(f"/api/v1/users/{uid}/status", json={"status": "inactive"}, headers=service)
    assert r.status_code == 200


def _by_route(route: Route, to: Status) -> Changer:
    def change(client: TestClient, container: Container, tenant: Tenant, uid: str) -> None:
        change_status(
            container.uow(),
            workspace_id=tenant.id,
            user_id=uid,
            to=to,
            route=route,
            actor=Actor(id=None, name=f"{route.value} test"),
            reason_code=ReasonCode.NEEDS_REVIEW if to == Status.BLOCKED else None,
            now=container.clock(),
        )

    return change


def _by_bulk(client: TestClient, container: Container, tenant: Tenant, uid: str) -> None:
    with container.uow() as uow:
        [outcome], _ = apply_changes(
            uow,
            workspace_id=tenant.id,
            targets=[(uid, Status.BLOCKED)],
            route=Route.BULK,
            actor=Actor(id=None, name="bulk test"),
            reason_code=ReasonCode.PAYMENT_DISPUTE,
            now=container.clock(),
            batch_id=new_id("bat"),
        )
        uow.commit()
    assert outcome.result == "applied"


CHANGERS: dict[str, Changer] = {
    "admin_api-blocked": _by_admin_api,
    "automation-inactive": _by_automation,
    "cli-inactive": _by_route(Route.CLI, Status.INACTIVE),
    "scim-inactive": _by_route(Route.SCIM, Status.INACTIVE),
    "bulk-blocked": _by_bulk,
}
BEARER_KINDS = ["api_session", "personal", "service", "scim"]


def _credential(
    client: TestClient, container: Container, tenant: Tenant, uid: str, kind: str
) -> dict[str, str]:
    if kind == "api_session":
        return bearer(api_sign_in(client, tenant, "sub@x.example"))
    return token_for(container, tenant, CredentialKind(kind), uid)


def _introspect(client: TestClient, caller: dict[str, str], headers: dict[str, str]) -> bool:
    token = headers["Authorization"].removeprefix("Bearer ")
    r = client.post("/api/v1/introspect", data={"token": token}, headers=caller)
    assert r.status_code == 200
    active: bool = r.json()["active"]
    return active


@pytest.mark.parametrize("kind", BEARER_KINDS)
@pytest.mark.parametrize("how", list(CHANGERS))
def test_a_bearer_credential_stops_on_the_next_request_after_its_user_leaves_active(
    client: TestClient, container: Container, tenant: Tenant, kind: str, how: str
) -> None:
    uid = add_user(container, tenant, "sub@x.example", role=Role.ADMIN)
    headers = _credential(client, container, tenant, uid, kind)
    introspector = token_for(container, tenant, CredentialKind.PERSONAL)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert _introspect(client, introspector, headers) is True
    CHANGERS[how](client, container, tenant, uid)
    after = client.get("/api/v1/me", headers=headers)
    assert (after.status_code, after.json()["code"]) == (401, "unauthenticated")
    assert _introspect(client, introspector, headers) is False


@pytest.mark.parametrize("how", list(CHANGERS))
def test_a_session_credential_stops_on_the_next_check_after_its_user_leaves_active(
    client: TestClient, container: Container, tenant: Tenant, how: str
) -> None:
    uid = add_user(container, tenant, "sub@x.example", role=Role.ADMIN)
    signed = sign_in(
        container.uow(),
        workspace=tenant.workspace.slug,
        email="sub@x.example",
        password=PASSWORD,
        now=container.clock(),
        kind=CredentialKind.SESSION,
    )
    with container.engine.connect() as conn:
        assert credential_store.check(conn, signed.token, container.clock()) is not None
    CHANGERS[how](client, container, tenant, uid)
    with container.engine.connect() as conn:
        assert credential_store.check(conn, signed.token, container.clock()) is None


@pytest.mark.parametrize("how", ["admin_api-blocked", "cli-inactive"])
def test_the_dashboard_cookie_stops_on_the_next_page_after_its_user_leaves_active(
    client: TestClient, container: Container, tenant: Tenant, how: str
) -> None:
    uid = add_user(container, tenant, "sub@x.example", role=Role.ADMIN)
    form = client.get("/admin/sign-in").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf is not None
    signed = client.post(
        "/admin/sign-in",
        data={
            "workspace": tenant.workspace.slug,
            "email": "sub@x.example",
            "password": PASSWORD,
            "csrf_token": csrf.group(1),
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303
    assert client.get("/admin/users", follow_redirects=False).status_code == 200
    CHANGERS[how](client, container, tenant, uid)
    after = client.get("/admin/users", follow_redirects=False)
    assert after.status_code in (302, 303)
    assert "/admin/sign-in" in after.headers["location"]


def test_last_use_is_stamped_at_most_every_few_minutes_not_on_every_request(
    timed_client: TestClient, timed: Container, tenant: Tenant, clock: Clock
) -> None:
    owner = token_for(timed, tenant, CredentialKind.PERSONAL)

    def last_used() -> list[object]:
        return [
            t["last_used_at"]
            for t in timed_client.get("/api/v1/tokens", headers=owner).json()["items"]
        ]

    first = last_used()
    clock.advance(minutes=1)
    assert last_used() == first  # within TOUCH_EVERY: no write
    clock.advance(minutes=5)
    assert last_used() != first
    assert timed_client.get("/api/v1/me", headers=owner).json()["last_seen_at"] is not None


def test_the_users_list_and_page_show_the_last_seen_stamp_their_own_request_wrote(
    timed_client: TestClient, timed: Container, tenant: Tenant, clock: Clock
) -> None:
    """The credential check writes the caller's last-seen stamp (at most every few
    minutes, in its own transaction); the list and the page it leads to, read on the
    same connection, show that stamp, not the one before it."""
    owner = token_for(timed, tenant, CredentialKind.PERSONAL)

    def listed_seen() -> str:
        answer = timed_client.get("/api/v1/users?limit=200", headers=owner)
        assert answer.status_code == 200, answer.text
        (me,) = [u for u in answer.json()["items"] if u["id"] == tenant.owner.id]
        return str(me["last_seen_at"])

    def page_seen(uid: str) -> str:
        answer = timed_client.get("/admin/users", follow_redirects=False)
        assert answer.status_code == 200, answer.text
        row = answer.text.split(f'href="/admin/users/{uid}"', 1)[1].split("</tr>", 1)[0]
        return row.rsplit("<td>", 2)[1].split("</td>", 1)[0]  # last seen, before created

    first = listed_seen()  # the token's first use: stamped now
    assert first.startswith(clock.now.strftime("%Y-%m-%dT%H:%M:%S"))
    clock.advance(minutes=1)
    assert listed_seen() == first  # within TOUCH_EVERY: no write, the same stamp
    clock.advance(minutes=5)
    assert listed_seen().startswith(clock.now.strftime("%Y-%m-%dT%H:%M:%S"))

    admin = add_user(timed, tenant, "stamp.admin@x.example", role=Role.ADMIN)
    assert dashboard_sign_in(timed_client, tenant, "stamp.admin@x.example").status_code == 303
    clock.advance(minutes=6)
    assert page_seen(admin) == when(clock.now)  # this request's own stamp
    clock.advance(minutes=2)
    assert page_seen(admin) == when(clock.now - timedelta(minutes=2))  # no write: unchanged
    clock.advance(minutes=4)
    assert page_seen(admin) == when(clock.now)
