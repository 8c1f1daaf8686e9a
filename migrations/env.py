"""Alembic environment: runs migrations on the engine Roster itself would use."""

from alembic import context

from roster.adapters.database import make_engine
from roster.adapters.tables import metadata
from roster.config import get_settings

config = context.config


def run() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _migrate(connectable)
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        _migrate(conn)
    engine.dispose()


def _described(name: str | None, kind: str, parent: object) -> bool:
    """Whether `tables.py` describes it: the search index of 0017_user_search (an FTS5
    table and its shadow tables on SQLite, trigram indexes on PostgreSQL) is the
    migration's alone, so `alembic check` does not offer to drop it."""
    return not (name or "").startswith(("users_search", "ix_users_search_"))


def _migrate(conn: object) -> None:
    context.configure(
        connection=conn,
        target_metadata=metadata,  # type: ignore[arg-type]
        render_as_batch=True,
        compare_type=True,
        include_name=_described,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
