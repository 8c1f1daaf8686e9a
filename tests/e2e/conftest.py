"""HTTP clients on the real app over the test's database."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page

from roster.adapters.passwords import hash_password
from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.entrypoints.web.app import create_app
from roster.services.access import create_token
from roster.services.users import NewUser, create_user
from tests.conftest import Tenant
from tests.e2e.admin.live import chromium, live_server

PASSWORD = "correct horse battery staple"
PASSWORD_HASH = hash_password(PASSWORD)


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as c:
        yield c


def add_user(
    container: Container,
    tenant: Tenant,
    email: str,
    *,
    role: Role = Role.MEMBER,
    status: Status = Status.ACTIVE,
    password: bool = True,
) -> str:
    reason = ReasonCode.OTHER if status == Status.BLOCKED else None
    return create_user(
        container.uow(),
        workspace_id=tenant.id,
        route=Route.CLI,
        actor=Actor(id=None, name="cli:test"),
        now=container.clock(),
        new=NewUser(
            email,
            email.split("@", maxsplit=1)[0].title(),
            role,
            status,
            reason,
            password_hash=PASSWORD_HASH if password else None,
        ),
    ).id


def token_for(
    container: Container, tenant: Tenant, kind: CredentialKind, user_id: str | None = None
) -> dict[str, str]:
    """Authorization headers for a new token of `kind` (personal: for `user_id`)."""
    _, token = create_token(
        container.uow(),
        workspace_id=tenant.id,
        kind=kind,
        name=f"{kind.value} test",
        user_id=user_id or tenant.owner.id,
        now=container.clock(),
        route=Route.CLI,
        actor=Actor(None, "cli:test"),
    )
    return {"Authorization": f"Bearer {token}"}


# --- Chromium against a live server (tests marked `browser`) ----------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture
def base_url(container: Container) -> Iterator[str]:
    with live_server(container) as url:
        yield url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()
