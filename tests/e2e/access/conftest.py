"""Helpers for the access tests: sign-ins, audit trails, a clock the test moves."""

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from roster.bootstrap import Container
from roster.domain.audit import AuditEntry
from roster.entrypoints.web.app import create_app
from roster.services import queries
from tests.conftest import Tenant
from tests.e2e.conftest import PASSWORD


@dataclass
class Clock:
    """A clock that only moves when the test says so."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(container: Container, clock: Clock) -> Container:
    """The test's container, on the test's clock."""
    return replace(container, clock=clock)


@pytest.fixture
def timed_client(timed: Container) -> Iterator[TestClient]:
    with TestClient(create_app(timed)) as c:
        yield c


def sign_in(client: TestClient, tenant: Tenant, email: str, password: str = PASSWORD) -> Response:
    return client.post(
        "/api/v1/auth/sessions",
        json={"workspace": tenant.workspace.slug, "email": email, "password": password},
    )


def bearer(response: Response) -> dict[str, str]:
    return {"Authorization": f"Bearer {response.json()['token']}"}


def history(container: Container, tenant: Tenant, user_id: str) -> list[AuditEntry]:
    with container.engine.connect() as conn:
        return queries.audit_for_user(conn, tenant.id, user_id)


def status_of(container: Container, tenant: Tenant, user_id: str) -> str:
    with container.engine.connect() as conn:
        return queries.user_by_id(conn, tenant.id, user_id).user.status.value
