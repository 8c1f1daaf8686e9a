"""Entra ID's requests, replayed in order from the shared fixtures."""

import json
from typing import Any

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Route, Status
from roster.services import queries
from roster.services.status import change_status
from tests.conftest import Tenant
from tests.e2e.scim.conftest import ERROR, LIST, SCIM_JSON, Scim, entra, fixtures_dir

OPERATOR = Actor(id=None, name="cli:test")


def replay(idp: Scim, name: str, **ids: str) -> Any:
    fixture = entra(name)
    text = json.dumps(fixture)
    for key, value in (
        {"token": idp.headers["Authorization"].removeprefix("Bearer ")} | ids
    ).items():
        text = text.replace("{{" + key + "}}", value)
    fixture = json.loads(text)
    headers = dict(fixture["headers"])
    content = None if fixture["body"] is None else json.dumps(fixture["body"])
    response = idp.client.request(
        fixture["method"], fixture["path"], content=content, headers=headers
    )
    assert "{{" not in fixture["path"] + (content or "")
    return response


def _status(container: Container, tenant: Tenant, user_id: str) -> Status:
    with container.engine.connect() as conn:
        return queries.user_by_id(conn, tenant.id, user_id).user.status


def _audit(container: Container, tenant: Tenant, user_id: str) -> list[Any]:
    with container.engine.connect() as conn:
        return queries.audit_for_user(conn, tenant.id, user_id)


def _set(container: Container, tenant: Tenant, user_id: str, to: Status, **why: Any) -> None:
    change_status(
        container.uow(),
        workspace_id=tenant.id,
        user_id=user_id,
        to=to,
        route=Route.CLI,
        actor=OPERATOR,
        now=container.clock(),
        **why,
    )


def test_every_entra_fixture_is_replayed_in_order(
    idp: Scim, container: Container, tenant: Tenant
) -> None:
    names = sorted(p.name for p in fixtures_dir().glob("*.json"))
    assert len(names) == 33

    for name in ("01", "02", "03", "04", "05"):
        r = replay(idp, name)
        assert r.status_code == 200, (name, r.text)
        assert r.headers["content-type"].startswith(SCIM_JSON)
        assert r.json()["schemas"] == [LIST]
        assert r.json()["totalResults"] == 0
        assert r.json()["Resources"] == []

    r = replay(idp, "06")
    assert r.status_code == 201, r.text
    user_id = r.json()["id"]
    assert r.headers["Location"].endswith(f"/scim/v2/Users/{user_id}")
    assert r.json()["active"] is True
    assert r.json()["userName"] == "alice@example.com"
    assert _status(container, tenant, user_id) == Status.ACTIVE

    for name in ("07", "08"):  # Entra retrying a create of a user that exists: 409
        r = replay(idp, name)
        assert r.status_code == 409, r.text
        assert r.json()["scimType"] == "uniqueness"
        assert r.json()["schemas"] == [ERROR]

    for name, found in (("03", 1), ("04", 0), ("05", 1)):  # matching now finds her
        assert replay(idp, name).json()["totalResults"] == found, name
    r = idp.get("/scim/v2/Users?filter=userName+eq+%22ALICE%40example.com%22")
    assert [u["id"] for u in r.json()["Resources"]] == [user_id]

    manager_id = idp.create("bob.manager@example.com")
    member_id = idp.create("carol@example.com")

    r = replay(idp, "09", user_id=user_id)
    assert r.status_code == 200
    assert r.json()["id"] == user_id
    assert r.headers["ETag"] == r.json()["meta"]["version"]

    for name in ("10", "11", "12", "13", "14"):
        r = replay(idp, name, user_id=user_id)
        assert r.status_code == 200, (name, r.text)
    user = idp.get(f"/scim/v2/Users/{user_id}").json()
    assert user["userName"] == "alice.baker@example.com"
    assert user["displayName"] == "Alice B. Example"
    assert user["name"]["familyName"] == "Baker"
    assert user["externalId"] == "aliceb"
    assert user["nickName"] == "Ally"
    assert [e["value"] for e in user["emails"] if e["type"] == "work"] == ["alice@example.com"]
    enterprise = user["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
    assert enterprise["employeeNumber"] == "100235"

    for name in ("15", "16"):
        r = replay(idp, name, user_id=user_id, manager_id=manager_id)
        assert r.status_code == 200, (name, r.text)
        assert (
            r.json()["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"][
                "value"
            ]
            == manager_id
        )

    r = replay(idp, "17", user_id=user_id, manager_id=manager_id)
    assert r.status_code == 200, r.text
    assert r.json()["totalResults"] == 1
    assert r.json()["Resources"][0]["id"] == user_id
    r = replay(idp, "17", user_id=user_id, manager_id=member_id)
    assert r.json()["totalResults"] == 0

    # Disable, enable, in each shape Entra sends.
    for name, active, status in (
        ("18", False, Status.INACTIVE),
        ("19", False, Status.INACTIVE),
        ("20", False, Status.INACTIVE),
        ("21", True, Status.ACTIVE),
        ("22", False, Status.INACTIVE),
        ("23", True, Status.ACTIVE),
    ):
        r = replay(idp, name, user_id=user_id)
        assert r.status_code == 200, (name, r.text)
        assert r.json()["active"] is active
        assert _status(container, tenant, user_id) == status
        assert idp.get(f"/scim/v2/Users/{user_id}").json()["active"] is active

    # An admin blocks her: Entra can neither lift nor soften the block.
    _set(container, tenant, user_id, Status.BLOCKED, reason_code=ReasonCode.ACCESS_VIOLATION)
    assert idp.get(f"/scim/v2/Users/{user_id}").json()["active"] is False
    before = len(_audit(container, tenant, user_id))
    for attempt in range(3):  # Entra retries every cycle: the state never flaps
        for name in ("21", "23"):
            r = replay(idp, name, user_id=user_id)
            assert r.status_code == 400, r.text
            assert r.headers["content-type"].startswith(SCIM_JSON)
            body = r.json()
            assert body["schemas"] == [ERROR]
            assert body["status"] == "400"
            assert body["scimType"] == "mutability"
            assert "Blocked" in body["detail"]
            assert _status(container, tenant, user_id) == Status.BLOCKED
        r = replay(idp, "18", user_id=user_id)  # active false: already reads false
        assert r.status_code == 200
        assert r.json()["active"] is False
        assert _status(container, tenant, user_id) == Status.BLOCKED
        refused = _audit(container, tenant, user_id)[before:]
        assert len(refused) == 2 * (attempt + 1)
        assert {(e.outcome, e.route, e.to_status) for e in refused} == {
            ("user_blocked", Route.SCIM, Status.ACTIVE)
        }

    # The block is lifted where it may be; then Entra's hard delete deactivates the
    # account (kept in Roster, with its history) and SCIM no longer shows it.
    _set(container, tenant, user_id, Status.ACTIVE, note="cleared")
    r = replay(idp, "24", user_id=user_id)
    assert r.status_code == 204
    assert _status(container, tenant, user_id) == Status.INACTIVE
    assert _audit(container, tenant, user_id)[-1].route == Route.SCIM
    for name in ("09", "24"):  # read after delete, and delete again: gone
        r = replay(idp, name, user_id=user_id)
        assert r.status_code == 404, (name, r.text)
        assert r.json()["schemas"] == [ERROR]
        assert r.json()["status"] == "404"
    assert replay(idp, "03").json()["totalResults"] == 0

    # Provisioned again (the matching query found nobody). Fixture 12 renamed her,
    # so alice@example.com names no account any more and a new one is made; the
    # same userName linking the old account again is tested with Okta's requests.
    r = replay(idp, "06")
    assert r.status_code == 201, r.text
    assert r.json()["id"] != user_id
    assert r.json()["active"] is True
    assert replay(idp, "09", user_id=user_id).status_code == 404
    user_id = r.json()["id"]  # the groups below hold the account SCIM can see

    # Groups.
    r = replay(idp, "25")
    assert r.status_code == 201, r.text
    group_id = r.json()["id"]
    r = replay(idp, "26")
    assert r.status_code == 200
    assert [g["id"] for g in r.json()["Resources"]] == [group_id]
    assert "members" not in r.json()["Resources"][0]
    r = replay(idp, "27", group_id=group_id)
    assert r.status_code == 200
    assert r.json()["displayName"] == "Sales"
    for name in ("28", "29"):
        r = replay(idp, name, group_id=group_id, user_id=user_id, member_user_id=member_id)
        assert r.status_code in (200, 204), (name, r.text)
    members = idp.get(f"/scim/v2/Groups/{group_id}").json()["members"]
    assert sorted(m["value"] for m in members) == sorted([user_id, member_id])
    r = replay(idp, "30", group_id=group_id, user_id=user_id)
    assert r.status_code in (200, 204), r.text
    group = idp.get(f"/scim/v2/Groups/{group_id}").json()
    assert group["displayName"] == "Sales EMEA"
    assert [m["value"] for m in group["members"]] == [member_id]
    r = replay(idp, "31", group_id=group_id, user_id=member_id)
    assert r.status_code in (200, 204), r.text
    assert "members" not in idp.get(f"/scim/v2/Groups/{group_id}").json()
    r = replay(idp, "32", group_id=group_id)
    assert r.status_code == 204
    r = replay(idp, "27", group_id=group_id)
    assert r.status_code == 404
    assert r.json()["schemas"] == [ERROR]

    r = replay(idp, "33")
    assert r.status_code == 200
    ids = {s["id"] for s in r.json()["Resources"]}
    assert {
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    } <= ids
    assert "null" not in r.text


def test_each_entra_create_shape_creates_a_user(client: TestClient, idp: Scim) -> None:
    for name in ("06", "07", "08"):
        fixture = entra(name)
        body = fixture["body"] | {"userName": f"{name}-alice@example.com"}
        r = idp.request("POST", "/scim/v2/Users", body)
        assert r.status_code == 201, (name, r.text)
        assert r.json()["externalId"] == fixture["body"]["externalId"]
    created = idp.get("/scim/v2/Users?filter=userName+eq+%2207-alice%40example.com%22").json()
    (alice,) = created["Resources"]
    assert alice["phoneNumbers"][0]["value"] == "555-0100"
    assert (
        alice["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"] == "Sales"
    )
