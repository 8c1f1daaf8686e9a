"""`roster users import` on a new PostgreSQL database: each chunk finds its users
by email through the unique index, not by reading the workspace's rows so far."""

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text

from roster.adapters.database import make_engine
from roster.adapters.migrator import upgrade
from roster.bootstrap import Container
from roster.config import Settings
from roster.domain.users import Actor
from roster.services.imports import CHUNK, check_file, import_file
from tests.conftest import new_tenant


@pytest.fixture
def fresh_pg(postgresql_url: str) -> Iterator[Container]:
    """A database of its own, migrated and never analyzed, as after `roster init`."""
    admin = create_engine(postgresql_url, isolation_level="AUTOCOMMIT")
    name = f"roster_fresh_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = postgresql_url.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    try:
        upgrade(engine)
        yield Container(settings=Settings(database_url=url), engine=engine)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres_only
def test_every_chunk_looks_users_up_through_the_unique_index(
    fresh_pg: Container, tmp_path: Path
) -> None:
    tenant = new_tenant(fresh_pg)
    file = tmp_path / "many.csv"
    rows = CHUNK * 2 + 10
    file.write_text("email,name\n" + "".join(f"u{i}@fresh.example,U {i}\n" for i in range(rows)))
    lookups: list[tuple[str, Any]] = []

    @event.listens_for(fresh_pg.engine, "before_cursor_execute")
    def seen(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _m: bool) -> None:
        if "JOIN LATERAL" in statement and "FROM users" in statement:
            lookups.append((statement, parameters))

    import_file(
        fresh_pg.uow,
        workspace_id=tenant.id,
        file=check_file(file),
        actor=Actor(None, "cli:test"),
        now=fresh_pg.clock(),
    )
    event.remove(fresh_pg.engine, "before_cursor_execute", seen)
    assert len(lookups) >= 3  # at least one per chunk
    statement, parameters = lookups[-1]  # the last chunk's, on a table of 4,000 users
    with fresh_pg.engine.connect() as conn:
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
        counted = conn.execute(
            text("SELECT count(*) FROM users WHERE workspace_id = :ws"), {"ws": tenant.id}
        ).scalar_one()
    assert counted == rows + 1
    assert "Index Scan using uq_users_workspace_email on users" in plan, plan
    assert "Seq Scan on users" not in plan, plan
