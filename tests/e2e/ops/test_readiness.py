"""`/readyz`, `roster --version` and the dashboard footer: what an operator checks."""

from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from roster import __version__
from roster.adapters.database import make_engine
from roster.adapters.migrator import upgrade
from roster.bootstrap import Container
from roster.config import Settings
from roster.entrypoints.cli.main import app as cli
from roster.entrypoints.web.app import create_app


def readyz_on(url: str) -> tuple[int, dict[str, object]]:
    engine = make_engine(url)
    try:
        container = Container(settings=Settings(database_url=url), engine=engine)
        with TestClient(create_app(container)) as client:
            answer = client.get("/readyz")
            return answer.status_code, answer.json()
    finally:
        engine.dispose()


def test_readyz_is_200_with_the_version_when_the_schema_is_at_the_head(
    client: TestClient,
) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ready"
    assert answer.json()["version"] == __version__
    assert answer.json()["schema"]


def test_readyz_is_503_while_a_migration_is_pending_and_200_once_applied(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    engine = make_engine(url)
    upgrade(engine, "0012_address_key")
    status, body = readyz_on(url)
    assert status == 503
    assert body["status"] == "unready"
    assert body["schema"] == "0012_address_key"
    assert "roster db upgrade" in str(body["reason"])
    upgrade(engine)
    engine.dispose()
    assert readyz_on(url)[0] == 200


def test_readyz_is_503_on_an_empty_database() -> None:
    status, body = readyz_on("sqlite://")
    assert status == 503
    assert "no revision" in str(body["reason"])


def test_readyz_is_503_while_the_database_does_not_answer() -> None:
    # Nothing listens on port 1: the connection is refused at once.
    status, body = readyz_on("postgresql+psycopg://roster:secret@127.0.0.1:1/roster")
    assert status == 503
    assert "does not answer" in str(body["reason"])
    assert "secret" not in str(body)
    assert body["version"] == __version__


def test_roster_version_prints_the_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"roster {__version__}"


def test_the_dashboard_footer_shows_the_version(client: TestClient) -> None:
    page = client.get("/admin/sign-in")
    assert f"Roster {__version__}" in page.text
