"""Billing over HTTP: the count now, usage per day as JSON and CSV, the count at an
instant, and who may read them."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services.status import change_status
from roster.services.users import NewUser, create_user
from roster.services.workspaces import update_settings
from tests.conftest import Tenant, new_tenant
from tests.e2e.conftest import PASSWORD, add_user, token_for

PROBLEM = "application/problem+json"
CLI = Actor(id=None, name="cli:test")
T0 = datetime(2031, 6, 1, 9, tzinfo=UTC)  # after the owner's creation (the real clock)


def admin(container: Container, tenant: Tenant) -> dict[str, str]:
    return token_for(container, tenant, CredentialKind.PERSONAL)


def history(container: Container, tenant: Tenant) -> list[str]:
    """June 1: a and b join at 09:00; June 2: a leaves at 10:00, c joins at 11:00."""
    ids = [
        create_user(
            container.uow(),
            workspace_id=tenant.id,
            new=NewUser(f"{n}@x.example", n.upper()),
            route=Route.CLI,
            actor=CLI,
            now=T0,
        ).id
        for n in ("a", "b")
    ]
    change_status(
        container.uow(),
        workspace_id=tenant.id,
        user_id=ids[0],
        to=Status.INACTIVE,
        route=Route.CLI,
        actor=CLI,
        now=T0 + timedelta(days=1, hours=1),
    )
    ids.append(
        create_user(
            container.uow(),
            workspace_id=tenant.id,
            new=NewUser("c@x.example", "C"),
            route=Route.CLI,
            actor=CLI,
            now=T0 + timedelta(days=1, hours=2),
        ).id
    )
    return ids


def test_active_users_are_the_exact_counts_by_status(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    add_user(container, tenant, "a@x.example")
    add_user(container, tenant, "i@x.example", status=Status.INACTIVE)
    add_user(container, tenant, "b@x.example", status=Status.BLOCKED)
    update_settings(
        container.uow(),
        workspace_id=tenant.id,
        seat_limit=10,
        route=Route.CLI,
        actor=Actor(None, "cli:test"),
        now=container.clock(),
    )
    r = client.get("/api/v1/billing/active-users", headers=admin(container, tenant))
    assert r.status_code == 200
    body = r.json()
    assert {k: body[k] for k in ("active", "inactive", "blocked", "seat_limit")} == {
        "active": 2,
        "inactive": 1,
        "blocked": 1,
        "seat_limit": 10,
    }
    assert datetime.fromisoformat(body["as_of"]).tzinfo is not None


def test_usage_per_day_from_the_audit_history(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    history(container, tenant)
    r = client.get(
        "/api/v1/billing/usage",
        params={"from": "2031-06-01", "to": "2031-06-03"},
        headers=admin(container, tenant),
    )
    assert r.status_code == 200
    body = r.json()
    assert (body["from"], body["to"], body["timezone"]) == ("2031-06-01", "2031-06-03", "UTC")
    assert body["days"] == [
        {"date": "2031-06-01", "peak": 3, "closing": 3, "seat_days": 3},
        {"date": "2031-06-02", "peak": 3, "closing": 3, "seat_days": 4},
        {"date": "2031-06-03", "peak": 3, "closing": 3, "seat_days": 3},
    ]
    assert body["totals"] == {"peak": 3, "closing": 3, "seat_days": 10}


@pytest.mark.parametrize(
    ("params", "headers"),
    [({"format": "csv"}, {}), ({}, {"Accept": "text/csv"})],
)
def test_usage_downloads_as_csv(
    client: TestClient,
    container: Container,
    tenant: Tenant,
    params: dict[str, str],
    headers: dict[str, str],
) -> None:
    history(container, tenant)
    r = client.get(
        "/api/v1/billing/usage",
        params={"from": "2031-06-01", "to": "2031-06-02"} | params,
        headers=admin(container, tenant) | headers,
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.text.splitlines() == [
        "date,peak,closing,seat_days",
        "2031-06-01,3,3,3",
        "2031-06-02,3,3,4",
        "total,3,3,7",
    ]


def test_the_count_at_a_past_instant(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    history(container, tenant)
    headers = admin(container, tenant)
    answers = {
        at: client.get("/api/v1/billing/usage", params={"at": at}, headers=headers).json()
        for at in ("2031-06-01T08:59:59Z", "2031-06-01T09:00:00Z", "2031-06-02T10:30:00+00:00")
    }
    assert [a["active"] for a in answers.values()] == [1, 3, 2]
    naive = client.get("/api/v1/billing/usage", params={"at": "2031-06-02T12:00"}, headers=headers)
    assert naive.json()["active"] == 3  # taken as UTC


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"from": "2031-06-01"},
        {"from": "2031-06-02", "to": "2031-06-01"},
        {"from": "2001-01-01", "to": "2031-06-01"},
        {"from": "yesterday", "to": "2031-06-01"},
        {"from": "9999-12-30", "to": "9999-12-31"},
        {"at": "0001-01-01T00:00:00Z"},
        {"from": "2031-06-01", "to": "2031-06-02", "format": "xml"},
    ],
)
def test_a_bad_period_is_a_validation_problem(
    client: TestClient, container: Container, tenant: Tenant, params: dict[str, str]
) -> None:
    r = client.get("/api/v1/billing/usage", params=params, headers=admin(container, tenant))
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    "path", ["/api/v1/billing/active-users", "/api/v1/billing/usage?at=2031-01-01T00:00:00Z"]
)
def test_members_and_scim_tokens_may_not_read_billing(
    client: TestClient, container: Container, tenant: Tenant, path: str
) -> None:
    add_user(container, tenant, "m@x.example", role=Role.MEMBER)
    signed_in = client.post(
        "/api/v1/auth/sessions",
        json={"workspace": tenant.workspace.slug, "email": "m@x.example", "password": PASSWORD},
    ).json()["token"]
    for headers in (
        {"Authorization": f"Bearer {signed_in}"},
        token_for(container, tenant, CredentialKind.SCIM),
    ):
        r = client.get(path, headers=headers)
        assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    assert client.get(path).status_code == 401
    service = client.get(path, headers=token_for(container, tenant, CredentialKind.SERVICE))
    assert service.status_code == 200


def test_each_workspace_sees_only_its_own_counts(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    other = new_tenant(container)
    for n in range(3):
        add_user(container, other, f"o{n}@x.example")
    mine = client.get("/api/v1/billing/active-users", headers=admin(container, tenant)).json()
    theirs = client.get("/api/v1/billing/active-users", headers=admin(container, other)).json()
    assert (mine["active"], theirs["active"]) == (1, 4)


def test_a_blocked_user_is_not_billed(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    user = add_user(container, tenant, "x@x.example")
    headers = admin(container, tenant)
    r = client.put(
        f"/api/v1/users/{user}/status",
        json={"status": "blocked", "reason_code": ReasonCode.PAYMENT_DISPUTE.value},
        headers=headers,
    )
    assert r.status_code == 200
    body = client.get("/api/v1/billing/active-users", headers=headers).json()
    assert (body["active"], body["blocked"]) == (1, 1)
