"""Only an owner makes or unmakes owners, or changes an owner's status: an admin who
tries (to make themself owner and then push the owner out) gets 403 `forbidden` on
the dashboard, the API and in a bulk action, and a status attempt is audited."""

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import Role, Route, Status
from roster.entrypoints.web.background import run_bulk_jobs
from tests.conftest import Tenant
from tests.e2e.access.conftest import history, status_of
from tests.e2e.admin.conftest import csrf_of, signed_in_admin
from tests.e2e.conftest import add_user, token_for


def role_of(client: TestClient, headers: dict[str, str], user_id: str) -> str:
    return str(client.get(f"/api/v1/users/{user_id}", headers=headers).json()["role"])


def test_an_admin_cannot_make_themself_owner_nor_demote_an_owner_through_the_api(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    ada = add_user(container, tenant, "ada@x.example", role=Role.ADMIN)
    second = add_user(container, tenant, "otto@x.example", role=Role.OWNER)
    admin = token_for(container, tenant, CredentialKind.PERSONAL, ada)
    for target, role in ((ada, "owner"), (second, "admin"), (tenant.owner.id, "member")):
        r = client.patch(f"/api/v1/users/{target}", json={"role": role}, headers=admin)
        assert (r.status_code, r.json()["code"]) == (403, "forbidden")
        assert "Only an owner" in r.json()["detail"]
    r = client.post(
        "/api/v1/users",
        json={"email": "new@x.example", "name": "N", "role": "owner"},
        headers=admin,
    )
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = client.post(
        "/api/v1/invitations", json={"email": "inv@x.example", "role": "owner"}, headers=admin
    )
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    assert [role_of(client, admin, u) for u in (ada, second)] == ["admin", "owner"]
    # An admin still manages admins and members; an owner manages owners.
    member = add_user(container, tenant, "mem@x.example")
    r = client.patch(f"/api/v1/users/{member}", json={"role": "admin"}, headers=admin)
    assert r.status_code == 200
    owner = token_for(container, tenant, CredentialKind.PERSONAL)
    r = client.patch(f"/api/v1/users/{ada}", json={"role": "owner"}, headers=owner)
    assert r.status_code == 200
    assert role_of(client, owner, ada) == "owner"


def test_an_admin_cannot_change_an_owners_status_through_the_api_and_it_is_audited(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    ada = add_user(container, tenant, "ada@x.example", role=Role.ADMIN)
    admin = token_for(container, tenant, CredentialKind.PERSONAL, ada)
    r = client.put(
        f"/api/v1/users/{tenant.owner.id}/status",
        json={"status": "blocked", "reason_code": "other"},
        headers=admin,
    )
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    assert status_of(container, tenant, tenant.owner.id) == "active"
    last = history(container, tenant, tenant.owner.id)[-1]
    assert (last.route, last.actor_id, last.outcome) == (Route.ADMIN_API, ada, "forbidden")


def test_an_admin_cannot_change_an_owners_status_on_the_dashboard(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    ada = signed_in_admin(client, container, tenant)
    page = client.get(f"/admin/users/{tenant.owner.id}")
    r = client.post(
        f"/admin/users/{tenant.owner.id}/status",
        data={"to": "inactive", "version": "1", "csrf_token": csrf_of(page)},
    )
    assert [h.status_code for h in r.history] == [303]  # back to the profile (PRG)
    assert "Only an owner can change an owner" in r.text
    assert status_of(container, tenant, tenant.owner.id) == "active"
    last = history(container, tenant, tenant.owner.id)[-1]
    assert (last.route, last.actor_id, last.outcome) == (Route.ADMIN_PROFILE, ada, "forbidden")


def test_an_admins_bulk_action_leaves_owners_alone_and_an_owners_does_not(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    ada = add_user(container, tenant, "ada@x.example", role=Role.ADMIN)
    otto = add_user(container, tenant, "otto@x.example", role=Role.OWNER)
    member = add_user(container, tenant, "mem@x.example")
    admin = token_for(container, tenant, CredentialKind.PERSONAL, ada)
    body = {"status": "inactive", "user_ids": [otto, member]}
    job = client.post("/api/v1/bulk-actions", json=body, headers=admin).json()
    run_bulk_jobs(container)
    results = client.get(f"/api/v1/bulk-actions/{job['id']}/results", headers=admin).json()
    assert {i["user_id"]: (i["outcome"], i["code"]) for i in results["items"]} == {
        otto: ("refused", "forbidden"),
        member: ("applied", None),
    }
    assert history(container, tenant, otto)[-1].outcome == "forbidden"
    owner = token_for(container, tenant, CredentialKind.PERSONAL)
    job = client.post("/api/v1/bulk-actions", json=body, headers=owner).json()
    run_bulk_jobs(container)
    assert status_of(container, tenant, otto) == Status.INACTIVE.value
