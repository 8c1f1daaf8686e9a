"""Oversized bodies are refused before any parser runs, and change nothing."""

from collections.abc import Iterator

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.entrypoints.web.guards import MAX_BODY
from tests.conftest import Tenant
from tests.e2e.conftest import add_user, token_for


def test_a_declared_oversized_body_gets_413_problem(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    uid = add_user(container, tenant, "big@x.example")
    headers = token_for(container, tenant, CredentialKind.PERSONAL) | {
        "Content-Type": "application/json"
    }
    body = b'{"status": "inactive", "note": "' + b"x" * MAX_BODY + b'"}'
    r = client.put(f"/api/v1/users/{uid}/status", content=body, headers=headers)
    assert (r.status_code, r.json()["code"]) == (413, "payload_too_large")
    assert client.get(f"/api/v1/users/{uid}", headers=headers).json()["status"] == "active"


def test_a_streamed_oversized_body_is_cut_off(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    uid = add_user(container, tenant, "stream@x.example")
    headers = token_for(container, tenant, CredentialKind.PERSONAL) | {
        "Content-Type": "application/json"
    }

    def chunks() -> Iterator[bytes]:
        yield b'{"status": "inactive", "note": "'
        for _ in range(MAX_BODY // 65536 + 2):
            yield b"y" * 65536
        yield b'"}'

    r = client.put(f"/api/v1/users/{uid}/status", content=chunks(), headers=headers)
    assert (r.status_code, r.json()["code"]) == (413, "payload_too_large")
    assert client.get(f"/api/v1/users/{uid}", headers=headers).json()["status"] == "active"
