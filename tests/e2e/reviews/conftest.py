"""A workspace on a clock the test moves, its API client, and blocking helpers."""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.entrypoints.web.app import create_app
from tests.conftest import Tenant
from tests.e2e.conftest import token_for

START = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)  # a Monday morning, after any real clock


@dataclass
class Clock:
    """A clock that only moves when the test says so."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    @property
    def today(self) -> date:
        return self.now.date()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(container: Container, clock: Clock) -> Container:
    return replace(container, clock=clock)


@pytest.fixture
def api(timed: Container) -> Iterator[TestClient]:
    with TestClient(create_app(timed)) as c:
        yield c


@pytest.fixture
def admin(timed: Container, tenant: Tenant) -> dict[str, str]:
    return token_for(timed, tenant, CredentialKind.PERSONAL)


def block(
    api: TestClient, admin: dict[str, str], user_id: str, reason: str, **more: Any
) -> dict[str, Any]:
    r = api.put(
        f"/api/v1/users/{user_id}/status",
        json={"status": "blocked", "reason_code": reason, **more},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    return dict(r.json()["user"])


def queue(api: TestClient, admin: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    r = api.get(f"/api/v1/blocked-users{query}", headers=admin)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])
