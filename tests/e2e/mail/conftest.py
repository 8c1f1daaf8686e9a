"""A real SMTP server (aiosmtpd) for the mail tests, and a database of their own:
the sender works through every workspace's queue, so these tests send only theirs."""

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from roster.adapters.database import make_engine
from roster.adapters.migrator import upgrade
from roster.bootstrap import Container
from roster.config import Settings
from roster.entrypoints.web.app import create_app
from roster.entrypoints.web.background import send_mail
from tests.conftest import Tenant, _pg_scratch, new_tenant
from tests.e2e.access.conftest import Clock

PUBLIC_URL = "https://roster.example.com"


@dataclass
class Inbox:
    """Accepts every recipient, except `reject…` (550 for good) and `later…` (451 once)."""

    messages: list[EmailMessage] = field(default_factory=list)
    deferred: set[str] = field(default_factory=set)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("reject"):
            return "550 5.1.1 No such mailbox here"
        if address.startswith("later") and address not in self.deferred:
            self.deferred.add(address)
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    """A running SMTP server on a free local port (no STARTTLS), and what it received."""
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def mail_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path_factory.mktemp('mail') / 'm.db'}"])
    else:
        urls = _pg_scratch()
    url = next(urls)
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()
    next(urls, None)  # drops the scratch PostgreSQL database


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def mail_container(mail_engine: Engine, clock: Clock) -> Container:
    """Roster with no SMTP server configured (as `make run`), on the test's clock."""
    settings = Settings(database_url=str(mail_engine.url), public_url=PUBLIC_URL)
    return Container(settings=settings, engine=mail_engine, clock=clock)


@pytest.fixture
def mail_client(mail_container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(mail_container)) as c:
        yield c


@pytest.fixture
def mail_tenant(mail_container: Container) -> Tenant:
    return new_tenant(mail_container)


def send_through(container: Container, port: int) -> None:
    """Run the background worker's mail tick with an SMTP server configured."""
    smtp = f"smtp://127.0.0.1:{port}"
    settings = container.settings.model_copy(update={"smtp_url": smtp})
    send_mail(replace(container, settings=settings))
