"""SCIM clients: a scim token on a fresh workspace, and the Entra fixtures."""

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from tests.conftest import Tenant, repo_root
from tests.e2e.conftest import token_for

SCIM_JSON = "application/scim+json"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def fixtures_dir() -> Path:
    """The project's own copy of Entra ID's requests (tests/fixtures/scim/entra,
    with their README and sources), so a fresh clone needs nothing beside it."""
    return repo_root() / "tests" / "fixtures" / "scim" / "entra"


def entra(name: str) -> dict[str, Any]:
    found = sorted(fixtures_dir().glob(f"{name}*.json"))
    assert len(found) == 1, name
    loaded: dict[str, Any] = json.loads(found[0].read_text())
    return loaded


@pytest.fixture
def scim_headers(container: Container, tenant: Tenant) -> dict[str, str]:
    return token_for(container, tenant, CredentialKind.SCIM)


class Scim:
    """A provider's view: requests under /scim/v2 with its token."""

    def __init__(self, client: TestClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    def request(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        sent = dict(self.headers) | headers
        content = None
        if body is not None:
            sent.setdefault("Content-Type", f"{SCIM_JSON}; charset=utf-8")
            content = json.dumps(body)
        return self.client.request(method, path, content=content, headers=sent)

    def create(self, user_name: str, **extra: Any) -> str:
        body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name}
        r = self.request("POST", "/scim/v2/Users", body | extra)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def patch(self, user_id: str, *operations: dict[str, Any], **headers: str) -> Any:
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": list(operations),
        }
        return self.request("PATCH", f"/scim/v2/Users/{user_id}", body, **headers)

    def get(self, path: str) -> Any:
        return self.request("GET", path)


@pytest.fixture
def idp(client: TestClient, scim_headers: dict[str, str]) -> Scim:
    return Scim(client, scim_headers)
