"""`roster backup`: a SQLite copy that restores with an intact audit chain; the
pg_dump command on PostgreSQL."""

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from roster.config import get_settings
from roster.entrypoints.cli import common
from roster.entrypoints.cli.main import app

runner = CliRunner()


@pytest.fixture
def use_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    def use(url: str) -> None:
        monkeypatch.setenv("ROSTER_DATABASE_URL", url)
        get_settings.cache_clear()
        if common.container.cache_info().currsize:
            common.container().engine.dispose()
        common.container.cache_clear()

    yield use
    common.container().engine.dispose()
    get_settings.cache_clear()
    common.container.cache_clear()


def roster(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout + result.stderr


def test_a_restored_backup_keeps_the_users_and_an_intact_audit_chain(
    use_database: Callable[[str], None], tmp_path: Path
) -> None:
    use = use_database
    use(f"sqlite:///{tmp_path / 'live.db'}")
    assert roster("init")[0] == 0
    assert roster("workspaces", "create", "acme", "--owner-email", "boss@acme.example")[0] == 0
    assert roster("users", "add", "ann@acme.example", "-w", "acme", "--name", "Ann")[0] == 0
    assert roster("users", "set-status", "ann@acme.example", "inactive", "-w", "acme")[0] == 0
    code, said = roster("backup", str(tmp_path / "copy.db"))
    assert code == 0, said
    assert "Backed up to" in said

    restored = tmp_path / "restored.db"
    shutil.copyfile(tmp_path / "copy.db", restored)  # the documented restore: copy it back
    use(f"sqlite:///{restored}")
    code, said = roster("audit", "verify", "-w", "acme")
    assert code == 0, said
    assert "intact" in said
    code, said = roster("users", "show", "ann@acme.example", "-w", "acme", "--json")
    assert '"inactive"' in said


def test_backup_refuses_to_overwrite_a_file(
    use_database: Callable[[str], None], tmp_path: Path
) -> None:
    use_database(f"sqlite:///{tmp_path / 'live.db'}")
    assert roster("init")[0] == 0
    taken = tmp_path / "taken.db"
    taken.write_text("keep me")
    code, said = roster("backup", str(taken))
    assert code == 2
    assert "exists already" in said
    assert taken.read_text() == "keep me"


def test_on_postgresql_backup_prints_the_pg_dump_command_without_the_password(
    use_database: Callable[[str], None], tmp_path: Path
) -> None:
    use_database("postgresql+psycopg://roster:s3cret@db.internal:5432/roster")
    code, said = roster("backup", str(tmp_path / "roster.dump"))
    assert code == 0, said
    assert "pg_dump --format=custom" in said
    assert "postgresql://roster@db.internal:5432/roster" in said
    assert "s3cret" not in said
