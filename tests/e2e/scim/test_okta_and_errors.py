"""Okta's documented request shapes, and SCIM errors for every failure."""

from typing import Any

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Route, Status
from roster.services import queries
from roster.services.status import change_status
from tests.conftest import Tenant
from tests.e2e.conftest import add_user, token_for
from tests.e2e.scim.conftest import ERROR, SCIM_JSON, Scim

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"


def okta_user(email: str, *, active: bool = True) -> dict[str, Any]:
    """POST /Users as Okta documents it."""
    return {
        "schemas": [CORE],
        "userName": email,
        "name": {"givenName": "Dana", "familyName": "Okta"},
        "emails": [{"primary": True, "value": email, "type": "work"}],
        "displayName": "Dana Okta",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": active,
    }


def _status(container: Container, tenant: Tenant, user_id: str) -> Status:
    with container.engine.connect() as conn:
        return queries.user_by_id(conn, tenant.id, user_id).user.status


def test_okta_provisions_deactivates_and_reactivates(
    idp: Scim, container: Container, tenant: Tenant
) -> None:
    r = idp.get(
        "/scim/v2/Users?filter=userName%20eq%20%22Dana%40example.com%22&startIndex=1&count=100"
    )
    assert r.json()["totalResults"] == 0
    r = idp.request("POST", "/scim/v2/Users", okta_user("Dana@Example.com"))
    assert r.status_code == 201, r.text
    created = r.json()
    user_id = created["id"]
    assert created["userName"] == "dana@example.com"  # the email, normalized
    assert created["externalId"] == "00ujl29u0le5T6Aj10h7"
    assert "password" not in created
    r = idp.get(
        "/scim/v2/Users?filter=userName%20eq%20%22Dana%40example.com%22&startIndex=1&count=100"
    )
    assert [u["id"] for u in r.json()["Resources"]] == [user_id]

    deactivate = {"op": "replace", "value": {"active": False}}  # Okta's path-less replace
    r = idp.patch(user_id, deactivate)
    assert r.status_code == 200
    assert r.json()["active"] is False
    assert _status(container, tenant, user_id) == Status.INACTIVE
    r = idp.patch(user_id, {"op": "add", "path": "active", "value": True})
    assert r.status_code == 200
    assert r.json()["active"] is True
    assert _status(container, tenant, user_id) == Status.ACTIVE

    # Okta's PUT of the whole user, with a changed name, keeps the id.
    body = okta_user("dana@example.com") | {"id": user_id, "displayName": "Dana K. Okta"}
    r = idp.request("PUT", f"/scim/v2/Users/{user_id}", body)
    assert r.status_code == 200, r.text
    assert r.json()["displayName"] == "Dana K. Okta"


def test_a_blocked_user_reads_inactive_and_a_put_cannot_unblock_them(
    idp: Scim, container: Container, tenant: Tenant
) -> None:
    user_id = idp.create("erin@example.com")
    change_status(
        container.uow(),
        workspace_id=tenant.id,
        user_id=user_id,
        to=Status.BLOCKED,
        route=Route.CLI,
        actor=Actor(id=None, name="cli:test"),
        now=container.clock(),
        reason_code=ReasonCode.PAYMENT_DISPUTE,
    )
    r = idp.request("PUT", f"/scim/v2/Users/{user_id}", okta_user("erin@example.com", active=True))
    assert r.status_code == 400
    assert r.json()["scimType"] == "mutability"
    assert "Blocked" in r.json()["detail"]
    user = idp.get(f"/scim/v2/Users/{user_id}").json()
    assert user["active"] is False
    assert "name" not in user
    r = idp.patch(user_id, {"op": "replace", "path": "active", "value": False})
    assert r.status_code == 200
    assert r.json()["active"] is False
    r = idp.request("DELETE", f"/scim/v2/Users/{user_id}")
    assert r.status_code == 204
    assert _status(container, tenant, user_id) == Status.BLOCKED
    assert idp.get(f"/scim/v2/Users/{user_id}").status_code == 404

    # Provisioned again after the delete: the same account, still Blocked.
    r = idp.request("POST", "/scim/v2/Users", okta_user("erin@example.com", active=True))
    assert r.status_code == 400
    assert r.json()["scimType"] == "mutability"
    assert _status(container, tenant, user_id) == Status.BLOCKED
    assert idp.get(f"/scim/v2/Users/{user_id}").status_code == 404
    # Linked again as she was (no externalId: a Blocked user's identity is frozen).
    again = okta_user("erin@example.com", active=False)
    del again["externalId"]
    r = idp.request("POST", "/scim/v2/Users", again)
    assert r.status_code == 201, r.text
    assert r.json()["id"] == user_id
    assert r.json()["active"] is False
    assert _status(container, tenant, user_id) == Status.BLOCKED


def test_users_made_elsewhere_are_visible_and_attribute_names_are_case_insensitive(
    idp: Scim, container: Container, tenant: Tenant
) -> None:
    user_id = add_user(container, tenant, "frank@example.com")
    r = idp.get("/scim/v2/Users?filter=USERNAME%20eq%20%22FRANK%40example.com%22")
    (frank,) = r.json()["Resources"]
    assert frank["id"] == user_id
    assert frank["active"] is True
    r = idp.patch(user_id, {"op": "Replace", "path": "ACTIVE", "value": "false"})
    assert r.status_code == 200
    assert r.json()["active"] is False


def test_lists_sort_and_page(idp: Scim) -> None:
    for name in ("c", "a", "b"):
        idp.create(f"{name}@example.com")
    r = idp.get(
        "/scim/v2/Users?filter=userName%20ew%20%22example.com%22&sortBy=userName&startIndex=2&count=1"
    )
    body = r.json()
    assert body["totalResults"] == 3
    assert body["startIndex"] == 2
    assert body["itemsPerPage"] == 1
    assert [u["userName"] for u in body["Resources"]] == ["b@example.com"]
    r = idp.get("/scim/v2/Users?sortBy=userName&sortOrder=descending&attributes=userName")
    names = [u["userName"] for u in r.json()["Resources"]]
    assert names == sorted(names, reverse=True)
    assert all(set(u) <= {"id", "userName", "schemas"} for u in r.json()["Resources"])


def test_etags_refuse_stale_writes(idp: Scim) -> None:
    user_id = idp.create("gina@example.com")
    r = idp.get(f"/scim/v2/Users/{user_id}")
    etag = r.headers["ETag"]
    r = idp.patch(user_id, {"op": "add", "path": "nickName", "value": "G"}, **{"If-Match": etag})
    assert r.status_code == 200
    assert r.headers["ETag"] != etag
    r = idp.patch(user_id, {"op": "add", "path": "nickName", "value": "H"}, **{"If-Match": etag})
    assert r.status_code == 412
    assert r.json()["schemas"] == [ERROR]
    assert idp.get(f"/scim/v2/Users/{user_id}").json()["nickName"] == "G"


def test_a_patch_of_active_alone_reads_as_a_full_patch_would(
    idp: Scim, container: Container, tenant: Tenant
) -> None:
    """Every shape of an `active`-only PATCH answers the stored user, ETag and
    all, exactly as a GET then reads it; stale If-Match still refuses it."""
    user_id = idp.create("hana@example.com", displayName="Hana", nickName="H")
    shapes: list[tuple[dict[str, Any], Status]] = [
        ({"op": "replace", "path": "active", "value": False}, Status.INACTIVE),
        ({"op": "Add", "path": f"{CORE}:active", "value": "True"}, Status.ACTIVE),
        ({"op": "Replace", "value": {"active": "False"}}, Status.INACTIVE),
        ({"op": "replace", "value": {"active": False}}, Status.INACTIVE),  # no change
    ]
    for operation, status in shapes:
        r = idp.patch(user_id, operation)
        assert r.status_code == 200, r.text
        read = idp.get(f"/scim/v2/Users/{user_id}")
        assert r.json() == read.json()
        assert r.headers["ETag"] == read.headers["ETag"]
        assert (r.json()["active"], r.json()["nickName"]) == (status == Status.ACTIVE, "H")
        assert _status(container, tenant, user_id) == status
    stale = idp.patch(
        user_id, {"op": "replace", "path": "active", "value": True}, **{"If-Match": 'W/"1-1"'}
    )
    assert stale.status_code == 412
    assert _status(container, tenant, user_id) == Status.INACTIVE


def _error(r: Any, status: int, scim_type: str | None = None) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(SCIM_JSON)
    body = r.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    if scim_type:
        assert body["scimType"] == scim_type


def test_every_failure_is_a_scim_error(
    client: TestClient, idp: Scim, container: Container, tenant: Tenant
) -> None:
    _error(client.get("/scim/v2/Users"), 401)
    _error(client.get("/scim/v2/Users", headers={"Authorization": "Bearer nope"}), 401)
    personal = token_for(container, tenant, CredentialKind.PERSONAL)
    _error(client.get("/scim/v2/Users", headers=personal), 403)
    bad_json = idp.client.post(
        "/scim/v2/Users", content=b"{not json", headers=idp.headers | {"Content-Type": SCIM_JSON}
    )
    _error(bad_json, 400, "invalidSyntax")
    _error(idp.get("/scim/v2/Users?filter=userName%20eq"), 400, "invalidFilter")
    _error(idp.get("/scim/v2/Users?filter=nosuch%20eq%20%22x%22"), 400, "invalidFilter")
    _error(idp.get("/scim/v2/Users/usr_nobody"), 404)
    _error(idp.get("/scim/v2/Nothing"), 404)
    _error(idp.request("DELETE", "/scim/v2/ServiceProviderConfig"), 405)
    _error(idp.request("POST", "/scim/v2/Users", {"schemas": [CORE]}), 400)
    user_id = idp.create("hana@example.com")
    _error(idp.request("POST", "/scim/v2/Users", okta_user("HANA@example.com")), 409, "uniqueness")
    _error(idp.patch(user_id, {"op": "remove", "path": "active"}), 400, "mutability")
    _error(idp.patch(user_id, {"op": "jump", "path": "active", "value": True}), 400)


def test_okta_puts_a_user_back_with_its_read_only_attributes_in_its_own_formats(
    idp: Scim, container: Container, tenant: Tenant
) -> None:
    """RFC 7643 §2.2: read-only values a client sends are ignored, whatever their
    shape: Okta echoes `meta.created` as "04-12-2018 00:00:00", and `id` and `groups`."""
    created = idp.request("POST", "/scim/v2/Users", okta_user("echo@example.com")).json()
    echoed = okta_user("echo@example.com") | {
        "id": "not-its-id",
        "displayName": "Dana Echoed",
        "meta": {
            "created": "04-12-2018 00:00:00",
            "lastModified": "04-12-2018 00:00:00",
            "resourceType": "Group",
            "location": "https://elsewhere.example/Users/1",
            "version": 'W/"nonsense"',
        },
        "groups": [{"value": "grp_nonexistent", "display": "Made up"}],
    }
    r = idp.request("PUT", f"/scim/v2/Users/{created['id']}", echoed)
    assert r.status_code == 200, r.text
    after = r.json()
    assert (after["id"], after["displayName"]) == (created["id"], "Dana Echoed")
    assert after["meta"]["created"] == created["meta"]["created"]
    assert after["meta"]["resourceType"] == "User"
    assert after["meta"]["location"] == created["meta"]["location"]
    assert after.get("groups", []) == []
    assert idp.get(f"/scim/v2/Users/{created['id']}").json()["displayName"] == "Dana Echoed"
