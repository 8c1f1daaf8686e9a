"""The standard flows `invitation` and `upgrade` on Active, Inactive and Blocked
users, with the audit event each leaves (refusals included); and introspection."""

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import Role, Route, Status
from roster.services.access import create_token
from roster.services.workspaces import update_settings
from tests.conftest import Tenant, new_tenant
from tests.e2e.access.conftest import bearer, history, sign_in, status_of
from tests.e2e.conftest import PASSWORD, add_user, token_for

NEW_PASSWORD = "a brand new password"


def invite(client: TestClient, headers: dict[str, str], email: str, **extra: str) -> dict[str, str]:
    r = client.post("/api/v1/invitations", json={"email": email, **extra}, headers=headers)
    assert r.status_code == 201, r.text
    body: dict[str, str] = r.json()
    return body


@pytest.fixture
def admin(container: Container, tenant: Tenant) -> dict[str, str]:
    return token_for(container, tenant, CredentialKind.PERSONAL)


# --- invitation ---------------------------------------------------------------


def test_an_invitation_creates_an_active_user_who_can_sign_in(
    client: TestClient, container: Container, tenant: Tenant, admin: dict[str, str]
) -> None:
    made = invite(client, admin, "New@x.example", role="admin", name="Nia New")
    assert (made["email"], made["role"], made["state"]) == ("new@x.example", "admin", "pending")
    r = client.post(f"/api/v1/invitations/{made['token']}/accept", json={"password": PASSWORD})
    assert r.status_code == 200
    user = r.json()["user"]
    assert (user["status"], user["role"], user["name"], r.json()["created"]) == (
        "active",
        "admin",
        "Nia New",
        True,
    )
    [created] = history(container, tenant, user["id"])
    assert (created.from_status, created.to_status, created.route) == (
        None,
        Status.ACTIVE,
        Route.INVITATION,
    )
    assert sign_in(client, tenant, "new@x.example").status_code == 201
    again = client.post(f"/api/v1/invitations/{made['token']}/accept", json={"password": PASSWORD})
    assert (again.status_code, again.json()["code"]) == (404, "not_found")
    listed = client.get("/api/v1/invitations", headers=admin).json()["items"]
    assert [(i["email"], i["state"]) for i in listed] == [("new@x.example", "accepted")]
    assert "token" not in listed[0]


def test_accepting_makes_an_inactive_user_active_through_route_invitation(
    client: TestClient, container: Container, tenant: Tenant, admin: dict[str, str]
) -> None:
    uid = add_user(container, tenant, "ina@x.example", status=Status.INACTIVE)
    made = invite(client, admin, "ina@x.example")
    r = client.post(f"/api/v1/invitations/{made['token']}/accept", json={})
    assert (r.status_code, r.json()["created"]) == (200, False)
    assert status_of(container, tenant, uid) == "active"
    last = history(container, tenant, uid)[-1]
    assert (last.from_status, last.to_status, last.route, last.outcome) == (
        Status.INACTIVE,
        Status.ACTIVE,
        Route.INVITATION,
        "applied",
    )
    assert sign_in(client, tenant, "ina@x.example").status_code == 201  # kept their password


def test_an_active_user_needs_no_invitation(
    client: TestClient, container: Container, tenant: Tenant, admin: dict[str, str]
) -> None:
    uid = add_user(container, tenant, "act@x.example")
    r = client.post("/api/v1/invitations", json={"email": "act@x.example"}, headers=admin)
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")
    assert len(history(container, tenant, uid)) == 1


def test_a_blocked_users_invitation_cannot_be_created_and_the_refusal_is_audited(
    client: TestClient, container: Container, tenant: Tenant, admin: dict[str, str]
) -> None:
    uid = add_user(container, tenant, "blk@x.example", status=Status.BLOCKED)
    r = client.post("/api/v1/invitations", json={"email": "blk@x.example"}, headers=admin)
    assert (r.status_code, r.json()["code"]) == (409, "user_blocked")
    assert "Only an admin can change a Blocked user's status" in r.json()["detail"]
    last = history(container, tenant, uid)[-1]
    assert (last.route, last.to_status, last.outcome) == (
        Route.INVITATION,
        Status.ACTIVE,
        "user_blocked",
    )
    assert client.get("/api/v1/invitations", headers=admin).json()["items"] == []


def test_a_blocked_users_invitation_cannot_be_accepted_and_stays_pending(
    client: TestClient, container: Container, tenant: Tenant, admin: dict[str, str]
) -> None:
    uid = add_user(container, tenant, "late@x.example", status=Status.INACTIVE)
    made = invite(client, admin, "late@x.example")
    client.put(
        f"/api/v1/users/{uid}/status",
        json={"status": "blocked", "reason_code": "payment_dispute"},
        headers=admin,
    )
    r = client.post(f"/api/v1/invitations/{made['token']}/accept", json={})
    assert (r.status_code, r.json()["code"]) == (409, "user_blocked")
    assert status_of(container, tenant, uid) == "blocked"
    last = history(container, tenant, uid)[-1]
    assert (last.route, last.outcome) == (Route.INVITATION, "user_blocked")
    [listed] = client.get("/api/v1/invitations", headers=admin).json()["items"]
    assert listed["state"] == "pending"


def test_invitations_respect_the_seat_limit_when_created_and_when_accepted(
    client: TestClient, container: Container, tenant: Tenant, admin: dict[str, str]
) -> None:
    update_settings(
        container.uow(),
        workspace_id=tenant.id,
        seat_limit=2,
        route=Route.CLI,
        actor=Actor(None, "cli:test"),
        now=container.clock(),
    )
    made = invite(client, admin, "one@x.example")
    add_user(container, tenant, "two@x.example")  # takes the last seat
    r = client.post("/api/v1/invitations", json={"email": "three@x.example"}, headers=admin)
    assert (r.status_code, r.json()["code"]) == (409, "seat_limit_reached")
    late = client.post(f"/api/v1/invitations/{made['token']}/accept", json={"password": PASSWORD})
    assert (late.status_code, late.json()["code"]) == (409, "seat_limit_reached")


def test_a_revoked_invitation_cannot_be_accepted(
    client: TestClient, tenant: Tenant, admin: dict[str, str]
) -> None:
    made = invite(client, admin, "rev@x.example")
    assert client.delete(f"/api/v1/invitations/{made['id']}", headers=admin).status_code == 204
    assert client.delete(f"/api/v1/invitations/{made['id']}", headers=admin).status_code == 404
    r = client.post(f"/api/v1/invitations/{made['token']}/accept", json={"password": PASSWORD})
    assert r.status_code == 404


def test_an_inviter_leaving_active_revokes_their_pending_invitations(
    client: TestClient, container: Container, tenant: Tenant, admin: dict[str, str]
) -> None:
    uid = add_user(container, tenant, "inviter@x.example", role=Role.ADMIN)
    theirs = token_for(container, tenant, CredentialKind.PERSONAL, uid)
    made = invite(client, theirs, "guest@x.example")
    r = client.put(f"/api/v1/users/{uid}/status", json={"status": "inactive"}, headers=admin)
    assert r.json()["revoked"] == {"sessions": 0, "tokens": 1, "invitations": 1, "automations": 0}
    accept = client.post(f"/api/v1/invitations/{made['token']}/accept", json={"password": PASSWORD})
    assert accept.status_code == 404


def test_members_cannot_invite_and_new_accounts_need_a_password(
    client: TestClient, container: Container, tenant: Tenant, admin: dict[str, str]
) -> None:
    add_user(container, tenant, "mem@x.example")
    member = bearer(sign_in(client, tenant, "mem@x.example"))
    r = client.post("/api/v1/invitations", json={"email": "z@x.example"}, headers=member)
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    made = invite(client, admin, "z@x.example")
    r = client.post(f"/api/v1/invitations/{made['token']}/accept", json={})
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


def test_the_accept_page_sets_a_password_behind_a_csrf_token(
    client: TestClient, container: Container, tenant: Tenant, admin: dict[str, str]
) -> None:
    made = invite(client, admin, "page@x.example")
    url = made["accept_url"]
    page = client.get(url)
    assert page.status_code == 200
    assert "page@x.example" in page.text
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    form = {"csrf": found.group(1), "name": "Paige", "password": NEW_PASSWORD}
    forged = client.post(url, data=form | {"csrf": "x.y", "password_confirm": NEW_PASSWORD})
    assert forged.status_code == 403
    differ = client.post(url, data=form | {"password_confirm": "something else"})
    assert differ.status_code == 422
    assert "The passwords differ." in differ.text
    done = client.post(url, data=form | {"password_confirm": NEW_PASSWORD}, follow_redirects=False)
    assert done.status_code == 303
    assert "You're in" in client.get(done.headers["location"]).text
    assert sign_in(client, tenant, "page@x.example", NEW_PASSWORD).status_code == 201
    assert client.get(url).status_code == 404


def test_an_operator_invites_from_the_command_line(
    client: TestClient, container: Container, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from roster.config import get_settings
    from roster.entrypoints.cli import common
    from roster.entrypoints.cli.main import app

    monkeypatch.setenv("ROSTER_DATABASE_URL", container.settings.database_url)
    get_settings.cache_clear()
    common.container.cache_clear()
    try:
        runner = CliRunner()
        slug = tenant.workspace.slug
        ok = runner.invoke(app, ["invitations", "create", "cli@x.example", "-w", slug])
        assert ok.exit_code == 0, ok.stderr
        token = ok.stdout.strip().rsplit("/", 1)[-1]
        r = client.post(f"/api/v1/invitations/{token}/accept", json={"password": PASSWORD})
        assert r.status_code == 200
        add_user(container, tenant, "cblk@x.example", status=Status.BLOCKED)
        refused = runner.invoke(app, ["invitations", "create", "cblk@x.example", "-w", slug])
        assert refused.exit_code == 1
        assert "user_blocked" in refused.stderr
    finally:
        common.container().engine.dispose()
        get_settings.cache_clear()
        common.container.cache_clear()


# --- upgrade ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "code", "changed", "final", "outcome"),
    [
        (Status.INACTIVE, 200, True, "active", "applied"),
        (Status.ACTIVE, 200, False, "active", None),
        (Status.BLOCKED, 409, None, "blocked", "user_blocked"),
    ],
)
def test_upgrade_on_each_status(
    client: TestClient,
    container: Container,
    tenant: Tenant,
    start: Status,
    code: int,
    changed: bool | None,
    final: str,
    outcome: str | None,
) -> None:
    uid = add_user(container, tenant, "up@x.example", status=start)
    service = token_for(container, tenant, CredentialKind.SERVICE)
    r = client.post(f"/api/v1/users/{uid}/upgrade", headers=service)
    assert r.status_code == code
    if changed is None:
        assert r.json()["code"] == "user_blocked"
    else:
        assert r.json()["changed"] is changed
    assert status_of(container, tenant, uid) == final
    events = history(container, tenant, uid)
    if outcome is None:
        assert len(events) == 1  # just the creation: same → same writes nothing
    else:
        assert (events[-1].route, events[-1].outcome) == (Route.UPGRADE, outcome)


def test_upgrade_respects_the_seat_limit_and_members_cannot_call_it(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    uid = add_user(container, tenant, "seat@x.example", status=Status.INACTIVE)
    add_user(container, tenant, "mem@x.example")
    update_settings(
        container.uow(),
        workspace_id=tenant.id,
        seat_limit=2,
        route=Route.CLI,
        actor=Actor(None, "cli:test"),
        now=container.clock(),
    )
    service = token_for(container, tenant, CredentialKind.SERVICE)
    r = client.post(f"/api/v1/users/{uid}/upgrade", headers=service)
    assert (r.status_code, r.json()["code"]) == (409, "seat_limit_reached")
    assert history(container, tenant, uid)[-1].outcome == "seat_limit_reached"
    member = bearer(sign_in(client, tenant, "mem@x.example"))
    assert client.post(f"/api/v1/users/{uid}/upgrade", headers=member).status_code == 403


# --- introspection ------------------------------------------------------------


def test_introspection_describes_a_live_token_and_refuses_everything_else(
    client: TestClient, container: Container, tenant: Tenant, admin: dict[str, str]
) -> None:
    uid = add_user(container, tenant, "int@x.example", role=Role.ADMIN)
    live = token_for(container, tenant, CredentialKind.PERSONAL, uid)["Authorization"][7:]
    service = token_for(container, tenant, CredentialKind.SERVICE)
    r = client.post("/api/v1/introspect", data={"token": live}, headers=service)
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert (body["active"], body["sub"], body["username"], body["kind"]) == (
        True,
        uid,
        "int@x.example",
        "personal",
    )
    _, expired = create_token(
        container.uow(),
        workspace_id=tenant.id,
        kind=CredentialKind.SERVICE,
        name="old",
        user_id=tenant.owner.id,
        now=container.clock() - timedelta(days=2),
        expires_at=container.clock() - timedelta(days=1),
        route=Route.CLI,
        actor=Actor(None, "cli:test"),
    )
    foreign = token_for(container, new_tenant(container), CredentialKind.SERVICE)
    for token in (expired, foreign["Authorization"][7:], "rst.nope.x", "garbage"):
        r = client.post("/api/v1/introspect", data={"token": token}, headers=service)
        assert r.json() == {"active": False}
    assert client.post("/api/v1/introspect", data={"token": live}).status_code == 401
    scim = token_for(container, tenant, CredentialKind.SCIM)
    assert client.post("/api/v1/introspect", data={"token": live}, headers=scim).status_code == 403
