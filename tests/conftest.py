"""Real databases for the tests: a SQLite file and a scratch PostgreSQL database.

Each test run migrates its own databases once; each test makes its own workspace,
so tests never see each other's rows. PostgreSQL is found at
ROSTER_TEST_POSTGRES_URL (default: the local server, user postgres). When it does
not answer its tests skip, unless ROSTER_REQUIRE_POSTGRES=1 (CI), which fails them.
"""

import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from roster.adapters.database import make_engine
from roster.adapters.migrator import upgrade
from roster.bootstrap import Container
from roster.config import Settings
from roster.domain.users import Actor, User
from roster.domain.vocabulary import Route
from roster.domain.workspaces import Workspace
from roster.services.users import NewUser
from roster.services.workspaces import create_workspace
from tests import tally

PG_ADMIN_URL = os.environ.get(
    "ROSTER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_PG = os.environ.get("ROSTER_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", "postgresql"]


def _pg_scratch() -> Iterator[str]:
    # pre-ping: the stress run restarts PostgreSQL mid-session
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    name = f"roster_test_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as down:
        admin.dispose()
        message = f"PostgreSQL is not answering at {PG_ADMIN_URL}: {down.orig}"
        if REQUIRE_PG:
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'roster.db'}"


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    yield from _pg_scratch()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """Each storage test runs once on SQLite and once on PostgreSQL."""
    return str(request.getfixturevalue(f"{request.param}_url"))


_migrated: dict[str, Engine] = {}


@pytest.fixture(scope="session")
def engine(database_url: str) -> Engine:
    if database_url not in _migrated:
        _migrated[database_url] = make_engine(database_url)
        upgrade(_migrated[database_url])
    return _migrated[database_url]


@pytest.fixture
def container(engine: Engine, database_url: str) -> Container:
    return Container(settings=Settings(database_url=database_url), engine=engine)


@dataclass(frozen=True)
class Tenant:
    workspace: Workspace
    owner: User

    @property
    def id(self) -> str:
        return self.workspace.id


CLI_ACTOR = Actor(id=None, name="cli:test")


def new_tenant(container: Container, owner_password_hash: str | None = None) -> Tenant:
    slug = f"t-{secrets.token_hex(5)}"
    workspace, owner = create_workspace(
        container.uow(),
        slug=slug,
        name=None,
        route=Route.CLI,
        actor=CLI_ACTOR,
        now=container.clock(),
        owner=NewUser(f"owner@{slug}.example", "Olivia Owner", password_hash=owner_password_hash),
    )
    return Tenant(workspace, owner)


@pytest.fixture
def tenant(container: Container) -> Tenant:
    """A fresh workspace with one Active owner, on the test's database."""
    return new_tenant(container)


@pytest.fixture
def pg_container(postgresql_url: str) -> Container:
    """For tests that need PostgreSQL itself (row locks across connections)."""
    if postgresql_url not in _migrated:
        _migrated[postgresql_url] = make_engine(postgresql_url)
        upgrade(_migrated[postgresql_url])
    return Container(
        settings=Settings(database_url=postgresql_url), engine=_migrated[postgresql_url]
    )


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


def _uses_postgresql(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    on_pg = callspec is not None and callspec.params.get("database_url") == "postgresql"
    return on_pg or "postgresql_url" in getattr(item, "fixturenames", ())


_pg_outcomes: dict[str, int] = {"passed": 0, "failed": 0, "skipped": 0}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count each test once (its call, or the phase that failed or skipped it). With
    pytest-xdist this runs where the reports are gathered: the attributes below ride
    on each report from its worker."""
    counted = report.when == "call" or report.outcome != "passed"
    if counted and getattr(report, "_roster_pg", False):
        _pg_outcomes[report.outcome] += 1
    tally.count(getattr(report, "_roster_tally", {}))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    report._roster_pg = _uses_postgresql(item)
    report._roster_tally = tally.take()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return  # the controller sums every worker's reports
    line = ", ".join(f"{n} {k}" for k, n in _pg_outcomes.items())
    terminalreporter.write_line(f"PostgreSQL tests: {line}")
    terminalreporter.write_line(tally.line())
    if path := os.environ.get("ROSTER_PG_REPORT"):
        # `make test` runs pytest twice (in parallel, then the serial tests): summed.
        report = Path(path)
        before = json.loads(report.read_text() or "{}") if report.exists() else {}
        summed = {k: before.get(k, 0) + n for k, n in _pg_outcomes.items()}
        report.write_text(json.dumps(summed))
