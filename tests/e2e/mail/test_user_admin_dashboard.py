"""Adding a user and editing a name and role on the dashboard: the API's rules and
audit, errors by their field, post/redirect/get."""

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import Role, Status
from tests.conftest import Tenant
from tests.e2e.admin.conftest import post_form, refused_on, signed_in_admin
from tests.e2e.conftest import add_user, token_for


def test_an_admin_adds_a_user_who_is_active_and_audited(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    signed_in_admin(mail_client, mail_container, mail_tenant)
    assert 'href="/admin/users/new"' in mail_client.get("/admin/users").text
    form = {"email": "added@people.example", "name": "Added Person", "role": "member"}
    made = post_form(mail_client, "/admin/users/new", "/admin/users/new", form)
    assert made.status_code == 303
    profile = mail_client.get(made.headers["location"])
    assert "Added Person" in profile.text
    assert "added@people.example" in profile.text
    admin = token_for(mail_container, mail_tenant, CredentialKind.PERSONAL)
    [found] = mail_client.get("/api/v1/users", params={"q": "added@"}, headers=admin).json()[
        "items"
    ]
    assert found["status"] == "active"
    events = mail_client.get(
        "/api/v1/audit-events", params={"user": found["id"]}, headers=admin
    ).json()["items"]
    assert [e["route"] for e in events] == ["admin_profile"]


def test_adding_a_taken_or_blocked_address_or_an_owner_as_admin_is_refused_by_its_field(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    add_user(mail_container, mail_tenant, "held@people.example", status=Status.BLOCKED)
    signed_in_admin(mail_client, mail_container, mail_tenant)
    blocked = {"email": "held@people.example", "name": "Held", "role": "member"}
    r = post_form(mail_client, "/admin/users/new", "/admin/users/new", blocked)
    assert 'id="email-error"' in refused_on(mail_client, r, "/admin/users/new")
    owner = {"email": "boss@people.example", "name": "Boss", "role": "owner"}
    r = post_form(mail_client, "/admin/users/new", "/admin/users/new", owner)
    assert 'id="role-error"' in refused_on(mail_client, r, "/admin/users/new")
    nameless = {"email": "anon@people.example", "name": " ", "role": "member"}
    r = post_form(mail_client, "/admin/users/new", "/admin/users/new", nameless)
    assert 'id="name-error"' in refused_on(mail_client, r, "/admin/users/new")


def test_an_admin_edits_a_name_and_role_and_the_role_change_is_audited(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    user = add_user(mail_container, mail_tenant, "edit@people.example")
    signed_in_admin(mail_client, mail_container, mail_tenant)
    page = f"/admin/users/{user}/edit"
    assert f'href="{page}"' in mail_client.get(f"/admin/users/{user}").text
    version = mail_client.get(page).text.split('name="version" value="')[1].split('"')[0]
    form = {"name": "Edited Name", "role": "admin", "version": version}
    saved = post_form(mail_client, page, page, form)
    assert saved.status_code == 303
    admin = token_for(mail_container, mail_tenant, CredentialKind.PERSONAL)
    now = mail_client.get(f"/api/v1/users/{user}", headers=admin).json()
    assert (now["name"], now["role"]) == ("Edited Name", Role.ADMIN.value)
    kinds = mail_client.get(
        "/api/v1/audit-events", params={"user": user, "kind": "user.role_changed"}, headers=admin
    ).json()["items"]
    assert kinds[0]["changes"]["role"] == ["member", "admin"]
    stale = post_form(mail_client, page, page, form | {"name": "Again"})
    # the version it was read at is gone: refused, shown on the edit page
    assert "changed since" in refused_on(mail_client, stale, page)


def test_an_admin_may_not_unmake_an_owner_and_an_unknown_user_is_not_found(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    owner = add_user(mail_container, mail_tenant, "own@people.example", role=Role.OWNER)
    signed_in_admin(mail_client, mail_container, mail_tenant, "solo@people.example")
    page = f"/admin/users/{mail_tenant.owner.id}/edit"
    r = post_form(mail_client, page, page, {"name": "Olivia", "role": "admin"})
    # an admin may not unmake an owner
    assert 'id="role-error"' in refused_on(mail_client, r, page)
    assert mail_client.get(f"/admin/users/{owner}/edit").status_code == 200
    assert mail_client.get("/admin/users/usr_nobody/edit").status_code == 404
