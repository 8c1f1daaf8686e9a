"""Applies the Alembic migrations: `roster init` and `roster db upgrade`."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision, on the engine's own connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "heads")
