"""POST /scim/v2/.search: one search across the workspace's Users and Groups."""

from typing import Any

from tests.e2e.scim.conftest import ERROR, LIST, Scim

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


def _search(idp: Scim, **fields: Any) -> Any:
    r = idp.request("POST", "/scim/v2/.search", {"schemas": [SEARCH]} | fields)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["schemas"] == [LIST]
    return body


def test_root_search_lists_users_and_groups_together(idp: Scim) -> None:
    ada = idp.create("ada@root.example", displayName="Ada")
    bob = idp.create("bob@root.example", displayName="Bob")
    r = idp.request(
        "POST",
        "/scim/v2/Groups",
        {"schemas": [GROUP], "displayName": "Analysts", "members": [{"value": ada}]},
    )
    assert r.status_code == 201, r.text
    team = r.json()["id"]

    everything = _search(idp)
    kinds = {res["id"]: res["meta"]["resourceType"] for res in everything["Resources"]}
    assert kinds[ada] == kinds[bob] == "User"
    assert kinds[team] == "Group"
    assert everything["totalResults"] == len(everything["Resources"])
    # Users first, then groups; a user carries their groups as on /Users.
    types = [res["meta"]["resourceType"] for res in everything["Resources"]]
    assert types == sorted(types, key=lambda t: t != "User")
    (ada_read,) = [res for res in everything["Resources"] if res["id"] == ada]
    assert [g["value"] for g in ada_read["groups"]] == [team]

    # A filter on an attribute only users have matches no group, and the reverse.
    found = _search(idp, filter='userName eq "ADA@root.example"')
    assert [res["id"] for res in found["Resources"]] == [ada]
    found = _search(idp, filter='displayName sw "A"', sortBy="displayName")
    assert [res["id"] for res in found["Resources"]] == [ada, team]
    assert [res["schemas"] for res in found["Resources"]] == [[USER], [GROUP]]

    # attributes, paging, sorting as on /Users/.search.
    slim = _search(idp, attributes=["displayName"], filter='displayName sw "A"')
    assert {frozenset(res) for res in slim["Resources"]} == {
        frozenset({"schemas", "id", "displayName"})
    }
    page = _search(idp, sortBy="displayName", sortOrder="descending", startIndex=2, count=1)
    assert page["totalResults"] == everything["totalResults"]
    assert page["startIndex"] == 2
    assert page["itemsPerPage"] == 1
    unpaged = _search(idp, sortBy="displayName", sortOrder="descending")
    assert page["Resources"] == unpaged["Resources"][1:2]
    tail = _search(idp, startIndex=everything["totalResults"], count=5)
    assert [res["id"] for res in tail["Resources"]] == [everything["Resources"][-1]["id"]]

    # The same query as a GET at the root (RFC 7644 §3.4.2).
    r = idp.client.get(
        "/scim/v2/",
        params={"filter": 'displayName sw "A"', "sortBy": "displayName"},
        headers=idp.headers,
    )
    assert r.status_code == 200, r.text
    assert [res["id"] for res in r.json()["Resources"]] == [ada, team]


def test_root_search_refuses_what_a_typed_search_refuses(idp: Scim) -> None:
    r = idp.request("POST", "/scim/v2/.search", {"schemas": [SEARCH], "filter": "userName eq"})
    assert r.status_code == 400
    assert r.json()["schemas"] == [ERROR]
    assert r.json()["scimType"] == "invalidFilter"
    r = idp.client.post(
        "/scim/v2/.search", content=b"{not json", headers=idp.headers | {"Content-Type": "x/y"}
    )
    assert r.status_code == 400
    assert r.json()["schemas"] == [ERROR]
    r = idp.client.post("/scim/v2/.search", json={})
    assert r.status_code == 401
    assert r.json()["schemas"] == [ERROR]
