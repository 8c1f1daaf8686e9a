"""The database schema, brought to the newest migration by `roster init` and `roster db upgrade`."""

from sqlalchemy import Engine

from roster.adapters.migrator import upgrade


def upgrade_schema(engine: Engine) -> None:
    """Apply every migration not yet applied."""
    upgrade(engine)
