"""Each user the list shows reads exactly as `GET /users/{id}` shows them, for every
status and for each kind of caller, on SQLite and PostgreSQL."""

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain import errors
from roster.domain.credentials import CredentialKind, Principal
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.entrypoints.web.deps import get_principal
from roster.services.status import change_status
from tests.conftest import Tenant
from tests.e2e.conftest import add_user, token_for


def _listed(client: TestClient, headers: dict[str, str], query: str) -> list[dict[str, Any]]:
    r = client.get(f"/api/v1/users?{query}", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert set(r.json()) == {"items", "next_cursor"}
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def test_each_listed_user_reads_as_the_single_user_read(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    add_user(container, tenant, "admin@list.example", role=Role.ADMIN)
    add_user(container, tenant, "inactive@list.example", status=Status.INACTIVE)
    add_user(container, tenant, "never.seen@list.example", password=False)
    blocked = add_user(container, tenant, "blocked@list.example")
    change_status(
        container.uow(),
        workspace_id=tenant.id,
        user_id=blocked,
        to=Status.BLOCKED,
        route=Route.CLI,
        actor=Actor(None, "cli:test"),
        reason_code=ReasonCode.PAYMENT_DISPUTE,
        note="Chargeback «42» — see ticket\n#7",
        now=container.clock(),
    )
    callers = {
        "admin_api": token_for(container, tenant, CredentialKind.PERSONAL),
        "automation": token_for(container, tenant, CredentialKind.SERVICE),
    }
    for route, headers in callers.items():
        _listed(client, headers, "limit=1")  # the first use stamps last-seen: before reading
        listed = _listed(client, headers, "limit=200")
        assert len(listed) == 5
        for item in listed:
            single = client.get(f"/api/v1/users/{item['id']}", headers=headers)
            assert single.status_code == 200, single.text
            assert item == single.json(), route
            assert single.headers["ETag"] == item["etag"]
        by_email = {u["email"]: u for u in listed}
        stopped = by_email["blocked@list.example"]
        assert stopped["status_reason"] == "payment_dispute"
        assert stopped["status_note"] == "Chargeback «42» — see ticket\n#7"
        # Blocked can only be lifted on the dashboard profile or the CLI (unless the
        # workspace allows admin_api): neither an admin's token nor a service token may.
        assert stopped["allowed_transitions"] == []
        assert by_email["inactive@list.example"]["allowed_transitions"]
    again = _listed(client, callers["automation"], "limit=200&status=blocked&status=inactive")
    assert {u["status"] for u in again} == {"blocked", "inactive"}


def test_a_list_answers_the_same_however_its_query_is_written(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    """Odd spellings of the same query (padded numbers, repeated parameters, an
    empty search) answer the same page; an unknown parameter is refused, naming it."""
    for i in range(7):
        add_user(container, tenant, f"p{i}@list.example", status=Status.INACTIVE)
    admin = token_for(container, tenant, CredentialKind.PERSONAL)
    _listed(client, admin, "limit=1")  # the first use stamps last-seen
    plain = client.get("/api/v1/users?status=inactive&limit=3", headers=admin).json()
    for query in (
        "status=inactive&limit=03",
        "status=inactive&limit=3&sort=id",
        "status=inactive&status=inactive&limit=3",
        "status=inactive&limit=3&q=",
    ):
        r = client.get(f"/api/v1/users?{query}", headers=admin)
        assert r.status_code == 200, (query, r.text)
        if "status=inactive&status=inactive" not in query:
            assert r.json() == plain, query
    unknown = client.get("/api/v1/users?status=inactive&limit=3&after=x", headers=admin)
    assert (unknown.status_code, unknown.json()["code"]) == (422, "validation_error")
    assert "'after'" in unknown.json()["detail"]
    following = f"status=inactive&limit=3&cursor={plain['next_cursor']}"
    assert [u["email"] for u in _listed(client, admin, following)] == [
        f"p{i}@list.example" for i in (3, 4, 5)
    ]


def test_the_caller_is_refused_before_the_parameters_are(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    callers = {
        401: {"Authorization": "Bearer rst.not-a-token"},
        403: token_for(container, tenant, CredentialKind.SCIM),  # SCIM speaks /scim/v2
        422: token_for(container, tenant, CredentialKind.PERSONAL),
    }
    for query in ("limit=0", "status=nope", "cursor=zzz", "sort=-nope&limit=500"):
        for expected, headers in callers.items():
            r = client.get(f"/api/v1/users?{query}", headers=headers)
            assert r.status_code == expected, (query, r.text)
            assert r.headers["content-type"] == "application/problem+json"


def test_the_list_takes_its_caller_from_the_same_dependency_as_every_route(
    client: TestClient,
) -> None:
    """An app that replaces the caller dependency (as a test or an embedding app
    may) sees the list use the replacement too: there is no second way in."""

    def refused() -> Principal:
        raise errors.Forbidden("Replaced caller.")

    app: FastAPI = client.app  # type: ignore[assignment]
    app.dependency_overrides[get_principal] = refused
    for path in ("/api/v1/users", "/api/v1/users?status=blocked&limit=5", "/api/v1/users/usr_x"):
        r = client.get(path)
        assert (r.status_code, r.json()["detail"]) == (403, "Replaced caller."), path
