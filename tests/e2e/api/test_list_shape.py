"""Every list in the API has one shape, read from /openapi.json: it takes `cursor`
and `limit`, answers `{items, next_cursor}`, pages without repeating or skipping,
and refuses a query parameter it does not take, naming it."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import Status
from roster.entrypoints.web.background import run_bulk_jobs
from tests.conftest import Tenant
from tests.e2e.conftest import add_user, token_for

API = "/api/v1"
# Every list the product names, and the others: the walk must find each as a list.
LISTS = {
    f"{API}/users",
    f"{API}/audit-events",
    f"{API}/invitations",
    f"{API}/tokens",
    f"{API}/bulk-actions",
    f"{API}/bulk-actions/{{job_id}}/results",
    f"{API}/automations",
    f"{API}/automations/{{rule_id}}/runs",
    f"{API}/automations/{{rule_id}}/runs/{{run_id}}/outcomes",
    f"{API}/emails",
    f"{API}/blocked-users",
}
RULE = {
    "name": "Deactivate members",
    "trigger": {"type": "schedule", "daily_at": "03:00"},
    "conditions": [{"field": "role", "op": "eq", "value": "member"}],
    "action": {"type": "set_status", "status": "inactive"},
}
BULK = {"status": "inactive", "filter": {"role": ["member"]}}


@pytest.fixture
def admin(container: Container, tenant: Tenant) -> dict[str, str]:
    return token_for(container, tenant, CredentialKind.PERSONAL)


def _resolved(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _answer(doc: dict[str, Any], op: dict[str, Any]) -> dict[str, Any]:
    content = op["responses"].get("200", {}).get("content", {})
    return _resolved(doc, content.get("application/json", {}).get("schema", {}))


def _is_list(answer: dict[str, Any]) -> bool:
    return answer.get("type") == "array" or "items" in answer.get("properties", {})


def _lists(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every GET operation under /api/v1 whose answer is a list, by path."""
    return {
        path: item["get"]
        for path, item in doc["paths"].items()
        if path.startswith(API) and "get" in item and _is_list(_answer(doc, item["get"]))
    }


def test_every_list_takes_cursor_and_limit_and_answers_items_and_next_cursor(
    client: TestClient,
) -> None:
    doc = client.get("/openapi.json").json()
    lists = _lists(doc)
    assert set(lists) >= LISTS, LISTS - set(lists)
    for path, op in lists.items():
        query = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        assert {"cursor", "limit"} <= query, path
        answer = _answer(doc, op)
        assert answer.get("type") == "object", path
        assert set(answer["properties"]) == {"items", "next_cursor"}, path
        assert answer["properties"]["items"]["type"] == "array", path
        assert set(answer["required"]) == {"items", "next_cursor"}, path
        assert "422" in op["responses"], path


def test_every_list_refuses_an_unknown_parameter_naming_it(
    client: TestClient, admin: dict[str, str]
) -> None:
    for path in _lists(client.get("/openapi.json").json()):
        url = path.format(job_id="blk_x", rule_id="rul_x", run_id="run_x", endpoint_id="whe_x")
        r = client.get(url, params={"limit": 1, "after": "x"}, headers=admin)
        assert (r.status_code, r.json()["code"]) == (422, "validation_error"), (path, r.text)
        assert "'after'" in r.json()["detail"], path
        assert r.json()["errors"][0]["loc"] == ["query", "after"], path


def test_any_operation_refuses_an_unknown_parameter_but_scim_follows_its_own_rules(
    client: TestClient, container: Container, tenant: Tenant, admin: dict[str, str]
) -> None:
    me = client.get(f"{API}/me", params={"verbose": "1"}, headers=admin)
    assert (me.status_code, me.json()["errors"][0]["loc"]) == (422, ["query", "verbose"])
    made = client.post(f"{API}/automations?dry=1", json=RULE, headers=admin)
    assert made.status_code == 422
    assert client.get(f"{API}/automations", headers=admin).json()["items"] == []  # nothing made
    scim = token_for(container, tenant, CredentialKind.SCIM)
    assert client.get("/scim/v2/Users?verbose=1", headers=scim).status_code == 200


def _walk(client: TestClient, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Every item, following `next_cursor` two at a time."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get(url, params=params, headers=headers)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


def test_every_list_pages_two_at_a_time_to_what_one_page_holds(
    client: TestClient, container: Container, tenant: Tenant, admin: dict[str, str]
) -> None:
    for n in range(3):
        add_user(container, tenant, f"m{n}@x.example")
        add_user(container, tenant, f"b{n}@x.example", status=Status.BLOCKED)
        token_for(container, tenant, CredentialKind.SERVICE)
        client.post(f"{API}/invitations", json={"email": f"i{n}@x.example"}, headers=admin)
    rules = [client.post(f"{API}/automations", json=RULE, headers=admin).json() for _ in range(3)]
    runs = f"{API}/automations/{rules[0]['id']}/runs"
    run_ids = [
        client.post(runs, json={"dry_run": True}, headers=admin).json()["id"] for _ in range(3)
    ]
    jobs = [
        client.post(f"{API}/bulk-actions", json=BULK | {"note": str(n)}, headers=admin).json()
        for n in range(3)
    ]
    run_bulk_jobs(container)
    sizes = {
        f"{API}/{path}": n
        for path, n in {
            "users": 7,
            "blocked-users": 3,
            "tokens": 4,
            "invitations": 3,
            "emails": 6,  # three invitations, three notices of the bulk action
            "automations": 3,
            f"automations/{rules[0]['id']}/runs": 3,
            f"automations/{rules[0]['id']}/runs/{run_ids[0]}/outcomes": 6,  # members
            "bulk-actions": 3,
            f"bulk-actions/{jobs[0]['id']}/results": 6,
        }.items()
    }
    sizes[f"{API}/audit-events"] = len(_walk(client, f"{API}/audit-events", admin))
    assert len(sizes) == len(LISTS)  # each list once
    for url, n in sizes.items():
        whole = client.get(url, params={"limit": 200}, headers=admin).json()
        assert whole["next_cursor"] is None, url
        assert len(whole["items"]) == n, url
        assert _walk(client, url, admin) == whole["items"], url
