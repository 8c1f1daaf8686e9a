"""The workspace's time zone: set through the API, audited as a settings change,
refused when zoneinfo does not know it, and followed by billing's days."""

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import Route
from roster.services.users import NewUser, create_user
from tests.conftest import Tenant
from tests.e2e.conftest import token_for


@pytest.fixture
def owner(container: Container, tenant: Tenant) -> dict[str, str]:
    return token_for(container, tenant, CredentialKind.PERSONAL, tenant.owner.id)


def test_an_owner_sets_the_time_zone_and_the_change_is_audited(
    client: TestClient, owner: dict[str, str]
) -> None:
    assert client.get("/api/v1/workspace", headers=owner).json()["timezone"] == "UTC"
    r = client.patch(
        "/api/v1/workspace",
        json={"timezone": "Europe/Paris"},
        headers=owner | {"X-Request-ID": "tz-paris"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["timezone"] == "Europe/Paris"
    assert client.get("/api/v1/workspace", headers=owner).json()["timezone"] == "Europe/Paris"
    page = client.get("/api/v1/audit-events?kind=workspace.settings_changed", headers=owner).json()[
        "items"
    ]
    assert [(e["request_id"], e["changes"]) for e in page] == [
        ("tz-paris", {"timezone": ["UTC", "Europe/Paris"]})
    ]


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../../etc/passwd", "Europe/Paris "])
def test_an_unknown_time_zone_is_a_422_naming_the_field_and_changes_nothing(
    client: TestClient, owner: dict[str, str], zone: str
) -> None:
    r = client.patch("/api/v1/workspace", json={"timezone": zone}, headers=owner)
    if zone == "Europe/Paris ":  # surrounding spaces are trimmed, as elsewhere
        assert r.status_code == 200
        assert r.json()["timezone"] == "Europe/Paris"
        return
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation_error"
    assert body["detail"].startswith("timezone:")
    assert "is not a time zone" in body["detail"]
    assert client.get("/api/v1/workspace", headers=owner).json()["timezone"] == "UTC"


def test_billing_days_start_at_midnight_in_the_workspace_zone(
    client: TestClient, container: Container, tenant: Tenant, owner: dict[str, str]
) -> None:
    """A user who joins at 22:30 UTC on 1 June joined on 2 June in Paris (00:30)."""
    create_user(
        container.uow(),
        workspace_id=tenant.id,
        new=NewUser("late@x.example", "Late"),
        route=Route.CLI,
        actor=Actor(None, "cli:test"),
        now=datetime(2031, 6, 1, 22, 30, tzinfo=UTC),
    )
    period = {"from": "2031-06-01", "to": "2031-06-02"}

    def days() -> list[tuple[str, int, int]]:
        body = client.get("/api/v1/billing/usage", params=period, headers=owner).json()
        return [(d["date"], d["peak"], d["closing"]) for d in body["days"]]

    assert days() == [("2031-06-01", 2, 2), ("2031-06-02", 2, 2)]
    assert client.patch(
        "/api/v1/workspace", json={"timezone": "Europe/Paris"}, headers=owner
    ).is_success
    assert days() == [("2031-06-01", 1, 1), ("2031-06-02", 2, 2)]
    body = client.get("/api/v1/billing/usage", params=period, headers=owner).json()
    assert body["timezone"] == "Europe/Paris"
