"""Every request has an id: a sane X-Request-ID is kept, anything else is replaced by
a new one; it is answered on every response and stored on the audit events it causes."""

import pytest
from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from tests.conftest import Tenant
from tests.e2e.admin.conftest import post_form, signed_in_admin
from tests.e2e.conftest import add_user, token_for

SANE = "req-7f3a:2026/12/07_ok~" + "x" * 100  # 123 visible ASCII characters


@pytest.fixture
def owner(container: Container, tenant: Tenant) -> dict[str, str]:
    return token_for(container, tenant, CredentialKind.PERSONAL, tenant.owner.id)


def stored_ids(client: TestClient, headers: dict[str, str], user_id: str) -> list[str | None]:
    r = client.get(f"/api/v1/audit-events?user={user_id}&kind=status", headers=headers)
    return [e["request_id"] for e in r.json()["items"]]


def test_a_sane_request_id_is_echoed_and_stored_on_the_audit_event(
    client: TestClient, container: Container, tenant: Tenant, owner: dict[str, str]
) -> None:
    uid = add_user(container, tenant, "rid@x.example")
    r = client.put(
        f"/api/v1/users/{uid}/status",
        json={"status": "inactive"},
        headers=owner | {"X-Request-ID": SANE},
    )
    assert r.status_code == 200
    assert r.headers["x-request-id"] == SANE
    assert stored_ids(client, owner, uid)[0] == SANE


def test_a_refused_change_stores_the_request_id_too(
    client: TestClient, container: Container, tenant: Tenant, owner: dict[str, str]
) -> None:
    uid = add_user(container, tenant, "no@x.example")
    r = client.put(
        f"/api/v1/users/{uid}/status",
        json={"status": "blocked"},  # no reason code: refused
        headers=owner | {"X-Request-ID": "refused-1"},
    )
    assert r.status_code == 422
    assert r.headers["x-request-id"] == "refused-1"
    assert stored_ids(client, owner, uid)[0] == "refused-1"


@pytest.mark.parametrize(
    "incoming",
    [
        "a" * 200,  # too long
        "réquête-1",  # not ASCII
        "two words",  # a space is not visible
        "",
    ],
)
def test_an_insane_request_id_is_replaced_and_the_new_one_stored(
    client: TestClient, container: Container, tenant: Tenant, owner: dict[str, str], incoming: str
) -> None:
    uid = add_user(container, tenant, "ins@x.example")
    r = client.put(
        f"/api/v1/users/{uid}/status",
        json={"status": "inactive"},
        headers=[(k.encode(), v.encode()) for k, v in owner.items()]
        + [(b"X-Request-ID", incoming.encode())],
    )
    assert r.status_code == 200
    answered = r.headers["x-request-id"]
    assert answered != incoming
    assert answered.isascii()
    assert answered.isprintable()
    assert 0 < len(answered) <= 128
    assert stored_ids(client, owner, uid)[0] == answered


def test_every_answer_carries_a_request_id_errors_and_404s_included(
    client: TestClient, owner: dict[str, str]
) -> None:
    answers = [
        client.get("/healthz"),
        client.get("/api/v1/users"),  # 401
        client.get("/api/v1/no-such-thing", headers=owner),  # 404
        client.get("/api/v1/users/usr_nope", headers=owner),  # 404 problem
        client.get("/scim/v2/Users"),  # 401, SCIM's error shape
        client.get("/admin/users"),  # the dashboard, redirected to sign in
        client.get("/api/v1/users/%00", headers=owner),  # refused before routing
    ]
    ids = [a.headers.get("x-request-id") for a in answers]
    assert all(ids), [a.status_code for a in answers]
    assert len(set(ids)) == len(ids)  # each request its own, generated
    echoed = client.get("/api/v1/nothing-here", headers={"X-Request-ID": "lost-1"})
    assert echoed.status_code == 404
    assert echoed.headers["x-request-id"] == "lost-1"


def test_the_dashboard_stores_the_request_id_of_a_profile_change(
    client: TestClient, container: Container, tenant: Tenant, owner: dict[str, str]
) -> None:
    signed_in_admin(client, container, tenant)
    uid = add_user(container, tenant, "dash@x.example")
    client.headers["X-Request-ID"] = "dash-1"
    r = post_form(
        client,
        f"/admin/users/{uid}",
        f"/admin/users/{uid}/status",
        {"to": "inactive", "version": "1"},
    )
    assert r.status_code == 303
    assert r.headers["x-request-id"] == "dash-1"
    assert stored_ids(client, owner, uid)[0] == "dash-1"


def test_admin_actions_store_the_request_id(client: TestClient, owner: dict[str, str]) -> None:
    r = client.patch(
        "/api/v1/workspace", json={"seat_limit": 9}, headers=owner | {"X-Request-ID": "seat-9"}
    )
    assert r.headers["x-request-id"] == "seat-9"
    listed = client.get("/api/v1/audit-events?kind=workspace.settings_changed", headers=owner)
    assert [e["request_id"] for e in listed.json()["items"]] == ["seat-9"]


def test_scim_stores_the_request_id_of_the_changes_it_makes(
    client: TestClient, container: Container, tenant: Tenant, owner: dict[str, str]
) -> None:
    idp = token_for(container, tenant, CredentialKind.SCIM)
    made = client.post(
        "/scim/v2/Users",
        json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "scimrid@x.example",
        },
        headers=idp | {"X-Request-ID": "idp-create"},
    )
    assert made.status_code == 201, made.text
    assert made.headers["x-request-id"] == "idp-create"
    off = client.patch(
        f"/scim/v2/Users/{made.json()['id']}",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        },
        headers=idp | {"X-Request-ID": "idp-off"},
    )
    assert off.status_code == 200, off.text
    assert stored_ids(client, owner, made.json()["id"]) == ["idp-off", "idp-create"]
