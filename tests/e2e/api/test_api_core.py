"""The API's first slice: sign-in, /me, tokens and PUT /users/{id}/status."""

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import Role, Status
from tests.conftest import Tenant, new_tenant
from tests.e2e.conftest import PASSWORD, add_user, token_for

PROBLEM = "application/problem+json"


def test_sign_in_returns_a_token_that_me_accepts(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    add_user(container, tenant, "ada@x.example", role=Role.ADMIN)
    r = client.post(
        "/api/v1/auth/sessions",
        json={"workspace": tenant.workspace.slug, "email": "ADA@x.example", "password": PASSWORD},
    )
    assert r.status_code == 201
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['token']}"})
    assert me.status_code == 200
    assert (me.json()["email"], me.json()["status"]) == ("ada@x.example", "active")


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    add_user(container, tenant, "bo@x.example")
    answers = [
        client.post(
            "/api/v1/auth/sessions",
            json={"workspace": tenant.workspace.slug, "email": email, "password": "wrong"},
        )
        for email in ("bo@x.example", "nobody@x.example")
    ]
    assert [a.status_code for a in answers] == [401, 401]
    assert answers[0].json()["detail"] == answers[1].json()["detail"]


def test_a_blocked_user_with_the_right_password_is_told_so(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    add_user(container, tenant, "cy@x.example", status=Status.BLOCKED)
    r = client.post(
        "/api/v1/auth/sessions",
        json={"workspace": tenant.workspace.slug, "email": "cy@x.example", "password": PASSWORD},
    )
    assert r.status_code == 403
    assert "Blocked" in r.json()["detail"]
    assert "admin" in r.json()["detail"]


def test_a_service_token_cannot_unblock_and_the_refusal_is_a_problem(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    uid = add_user(container, tenant, "dee@x.example", status=Status.BLOCKED)
    service = token_for(container, tenant, CredentialKind.SERVICE)
    r = client.put(f"/api/v1/users/{uid}/status", json={"status": "active"}, headers=service)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == "user_blocked"
    assert "Only an admin can change a Blocked user's status" in r.json()["detail"]


def test_an_admin_token_blocks_and_the_users_credentials_stop_at_once(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    uid = add_user(container, tenant, "eve@x.example", role=Role.ADMIN)
    theirs = token_for(container, tenant, CredentialKind.PERSONAL, uid)
    assert client.get("/api/v1/me", headers=theirs).status_code == 200
    mine = token_for(container, tenant, CredentialKind.PERSONAL)
    r = client.put(
        f"/api/v1/users/{uid}/status",
        headers=mine,
        json={"status": "blocked", "reason_code": "access_violation", "note": "shared token"},
    )
    assert r.status_code == 200
    assert r.json()["revoked"]["tokens"] == 1
    assert r.json()["user"]["allowed_transitions"] == []
    assert client.get("/api/v1/me", headers=theirs).status_code == 401


def test_a_stale_if_match_is_refused(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    uid = add_user(container, tenant, "fi@x.example")
    mine = token_for(container, tenant, CredentialKind.PERSONAL)
    etag = client.get(f"/api/v1/users/{uid}", headers=mine).headers["ETag"]
    client.put(f"/api/v1/users/{uid}/status", headers=mine, json={"status": "inactive"})
    r = client.put(
        f"/api/v1/users/{uid}/status", headers=mine | {"If-Match": etag}, json={"status": "active"}
    )
    assert (r.status_code, r.json()["code"]) == (412, "version_conflict")


def test_another_workspaces_user_answers_404(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    other = new_tenant(container)
    uid = add_user(container, other, "gus@x.example")
    mine = token_for(container, tenant, CredentialKind.PERSONAL)
    r = client.put(f"/api/v1/users/{uid}/status", headers=mine, json={"status": "inactive"})
    assert (r.status_code, r.json()["code"]) == (404, "not_found")


def test_malformed_json_and_unknown_statuses_are_validation_problems(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    mine = token_for(container, tenant, CredentialKind.PERSONAL)
    uid = tenant.owner.id
    bad = client.put(
        f"/api/v1/users/{uid}/status",
        headers=mine | {"Content-Type": "application/json"},
        content=b"{nope",
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_error")
    odd = client.put(f"/api/v1/users/{uid}/status", headers=mine, json={"status": "asleep"})
    assert (odd.status_code, odd.json()["code"]) == (422, "validation_error")


def test_no_credential_is_unauthenticated(client: TestClient) -> None:
    r = client.get("/api/v1/me")
    assert (r.status_code, r.json()["code"]) == (401, "unauthenticated")
    assert r.headers["content-type"].startswith(PROBLEM)
