"""The audit log is hash-chained per workspace; tampering is found and named."""

import contextlib
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from roster.bootstrap import Container
from roster.config import get_settings
from roster.domain import errors
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Route, Status
from roster.entrypoints.cli import common
from roster.entrypoints.cli.main import app
from roster.services.audit_chain import verify_chain
from roster.services.status import change_status
from roster.services.users import NewUser, create_user
from tests.conftest import Tenant

ADMIN = Actor(id=None, name="cli:test")


def history(container: Container, tenant: Tenant) -> str:
    uid = create_user(
        container.uow(),
        workspace_id=tenant.id,
        route=Route.CLI,
        actor=ADMIN,
        now=container.clock(),
        new=NewUser("c@x.example", "C"),
    ).id
    for to in (Status.BLOCKED, Status.ACTIVE, Status.INACTIVE):
        with contextlib.suppress(errors.UserBlocked):
            change_status(
                container.uow(),
                workspace_id=tenant.id,
                user_id=uid,
                to=to,
                route=Route.AUTOMATION,
                actor=ADMIN,
                now=container.clock(),
                reason_code=ReasonCode.OTHER,
            )
    return uid


def tamper(container: Container, statement: str, tenant: Tenant) -> None:
    """What someone with raw database access could do, guards lifted."""
    with container.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
            conn.execute(text(statement), {"w": tenant.id})
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
            conn.execute(text("DROP TRIGGER audit_events_no_delete"))
            conn.execute(text(statement), {"w": tenant.id})
            for verb in ("UPDATE", "DELETE"):
                conn.execute(
                    text(
                        f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} "
                        "ON audit_events BEGIN SELECT RAISE(ABORT, "
                        f"'audit_events is append-only: {verb} refused'); END"
                    )
                )


def test_an_untouched_log_verifies(container: Container, tenant: Tenant) -> None:
    history(container, tenant)
    with container.engine.connect() as conn:
        report = verify_chain(conn, tenant.id)
    assert report.ok
    assert report.checked == 5  # owner created, user created, blocked, two refusals


@pytest.mark.parametrize(
    ("statement", "seq", "reason"),
    [
        (
            "UPDATE audit_events SET note = 'nothing to see' WHERE workspace_id = :w AND seq = 3",
            3,
            "does not match",
        ),
        ("DELETE FROM audit_events WHERE workspace_id = :w AND seq = 2", 2, "missing"),
        ("DELETE FROM audit_events WHERE workspace_id = :w AND seq = 5", 5, "written"),
    ],
)
def test_an_edited_or_removed_event_is_named(
    container: Container, tenant: Tenant, statement: str, seq: int, reason: str
) -> None:
    history(container, tenant)
    tamper(container, statement, tenant)
    with container.engine.connect() as conn:
        report = verify_chain(conn, tenant.id)
    assert not report.ok
    assert report.broken_seq == seq
    assert reason in (report.reason or "")


@pytest.fixture
def cli(container: Container, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("ROSTER_DATABASE_URL", container.settings.database_url)
    get_settings.cache_clear()
    common.container.cache_clear()
    yield CliRunner()
    common.container().engine.dispose()
    get_settings.cache_clear()
    common.container.cache_clear()


def test_roster_audit_verify_exits_1_naming_the_event(
    container: Container, tenant: Tenant, cli: CliRunner
) -> None:
    history(container, tenant)
    ok = cli.invoke(app, ["audit", "verify", "-w", tenant.workspace.slug])
    assert ok.exit_code == 0
    assert "is intact: 5 events verified" in ok.stdout
    tamper(
        container,
        "UPDATE audit_events SET outcome = 'applied' WHERE workspace_id = :w AND seq = 4",
        tenant,
    )
    broken = cli.invoke(app, ["audit", "verify", "-w", tenant.workspace.slug])
    assert broken.exit_code == 1
    assert "is broken at event 4" in broken.stderr
