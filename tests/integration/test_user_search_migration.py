"""Migration 0017_user_search on a database that already has users, on SQLite and
PostgreSQL: after it they are found by text as before, and it goes down and up again
without losing any of them."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from roster.adapters.database import make_engine
from roster.adapters.migrator import MIGRATIONS, upgrade
from roster.bootstrap import Container
from roster.config import Settings
from roster.domain.filters import UserFilter
from roster.domain.users import Actor
from roster.domain.vocabulary import Route
from roster.services.queries import page_users
from roster.services.users import NewUser, add_users
from roster.services.workspaces import create_workspace
from tests.conftest import _pg_scratch

SEARCH = "0017_user_search"


def before_search() -> str:
    """The revision the search index comes after."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    down = ScriptDirectory.from_config(config).get_revision(SEARCH).down_revision
    assert isinstance(down, str)
    return down


@contextmanager
def fresh(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of `backend`, dropped afterwards."""
    with contextmanager(_pg_scratch)() if backend == "postgresql" else _sqlite(tmp_path) as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def _sqlite(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'search.db'}"


def downgrade(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def found(engine: Engine, workspace_id: str, text: str) -> list[str]:
    with engine.connect() as conn:
        page = page_users(conn, workspace_id, where=UserFilter(q=text), sort="email")
    return [u.user.email for u in page.users]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_users_there_before_the_index_are_found_after_it_and_after_a_round_trip(
    backend: str, tmp_path: Path
) -> None:
    with fresh(backend, tmp_path) as engine:
        # The users are made by today's services (which need today's schema), then the
        # schema goes back to before the index, so the index meets users already there.
        upgrade(engine)
        container = Container(settings=Settings(database_url=str(engine.url)), engine=engine)
        actor = Actor(id=None, name="cli:test")
        ws, _ = create_workspace(
            container.uow(), slug="early", name=None, route=Route.CLI, actor=actor,
            now=container.clock(), owner=NewUser("owner@early.example", "Olivia Owner"),
        )  # fmt: skip
        with container.uow() as uow:
            add_users(
                uow, workspace_id=ws.id, route=Route.CLI, actor=actor, now=container.clock(),
                batch_id=None,
                new=[NewUser("mara.quill@early.example", "Mara Quill"),
                     NewUser("tom@early.example", "Tom Quillon")],
            )  # fmt: skip
            uow.commit()
        downgrade(engine, before_search())

        upgrade(engine)
        both = ["mara.quill@early.example", "tom@early.example"]
        assert found(engine, ws.id, "QUILL") == both
        assert found(engine, ws.id, "a.qu") == ["mara.quill@early.example"]

        downgrade(engine, before_search())
        assert found(engine, ws.id, "qu") == both  # too short for the index: no use of it
        upgrade(engine)
        assert found(engine, ws.id, "quillon") == ["tom@early.example"]
        assert found(engine, ws.id, "early.example") == sorted([*both, "owner@early.example"])
