"""`allowed_transitions` lists exactly what the caller may do to the user now: what
it lists a status change accepts, and what it leaves out is refused."""

import pytest
from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import Role, Status
from tests.conftest import Tenant
from tests.e2e.conftest import add_user, token_for

CHANGE = {"reason_code": "other", "note": "checked by hand"}


def _allowed(client: TestClient, headers: dict[str, str], user_id: str) -> list[str]:
    answer = client.get(f"/api/v1/users/{user_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    allowed: list[str] = answer.json()["allowed_transitions"]
    return allowed


@pytest.mark.parametrize("kind", [CredentialKind.PERSONAL, CredentialKind.SERVICE])
def test_what_is_listed_is_accepted_and_what_is_not_is_refused(
    client: TestClient, container: Container, tenant: Tenant, kind: CredentialKind
) -> None:
    caller = token_for(container, tenant, kind)
    for n, (was, role) in enumerate(
        (status, role) for status in Status for role in (Role.MEMBER, Role.ADMIN)
    ):
        for to in Status:
            if to == was:
                continue
            uid = add_user(container, tenant, f"u{n}{to.value}@x.example", role=role, status=was)
            listed = _allowed(client, caller, uid)
            assert was.value not in listed
            put = client.put(
                f"/api/v1/users/{uid}/status", json={"status": to} | CHANGE, headers=caller
            )
            assert (put.status_code == 200) == (to.value in listed), (was, role, to, put.text)


def test_an_admin_may_not_change_themself_nor_an_owner(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    admin_id = add_user(container, tenant, "ada@x.example", role=Role.ADMIN)
    admin = token_for(container, tenant, CredentialKind.PERSONAL, admin_id)
    assert client.get("/api/v1/me", headers=admin).json()["allowed_transitions"] == []
    assert _allowed(client, admin, admin_id) == []
    assert _allowed(client, admin, tenant.owner.id) == []  # only an owner changes an owner
    second = add_user(container, tenant, "otto@x.example", role=Role.OWNER)
    owner = token_for(container, tenant, CredentialKind.PERSONAL)
    assert _allowed(client, owner, second) == ["inactive", "blocked"]
    assert _allowed(client, owner, admin_id) == ["inactive", "blocked"]


def test_the_last_owner_and_a_full_workspace_are_left_out(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    service = token_for(container, tenant, CredentialKind.SERVICE)
    assert _allowed(client, service, tenant.owner.id) == []  # the last active owner stays
    away = add_user(container, tenant, "away@x.example", status=Status.INACTIVE)
    assert _allowed(client, service, away) == ["active", "blocked"]
    owner = token_for(container, tenant, CredentialKind.PERSONAL)
    full = client.patch("/api/v1/workspace", json={"seat_limit": 1}, headers=owner)
    assert full.status_code == 200, full.text
    assert _allowed(client, service, away) == ["blocked"]
    listed = client.get("/api/v1/users?status=inactive", headers=service).json()["items"]
    assert [u["allowed_transitions"] for u in listed] == [["blocked"]]
