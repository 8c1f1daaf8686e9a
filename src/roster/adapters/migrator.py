"""Applies the Alembic migrations (`roster init`, `roster db upgrade`) and reads how
far a database is (`GET /readyz`)."""

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to `revision` (the newest by default), on the engine's own
    connection."""
    config = _config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


@lru_cache(maxsize=1)
def code_heads() -> frozenset[str]:
    """The migration heads this code was written for (the files do not change while
    the process runs)."""
    return frozenset(ScriptDirectory.from_config(_config()).get_heads())


def database_heads(engine: Engine) -> frozenset[str]:
    """The revisions the database's schema is at; raises when it does not answer."""
    with engine.connect() as conn:
        return frozenset(MigrationContext.configure(conn).get_current_heads())
