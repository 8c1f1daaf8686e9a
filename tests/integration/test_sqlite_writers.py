"""Several processes writing one SQLite file never see "database is locked"."""

import contextlib
import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import select

from roster.adapters.database import make_engine
from roster.adapters.migrator import upgrade
from roster.adapters.tables import user_counts, users
from roster.bootstrap import Container
from roster.config import Settings
from roster.domain import errors
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Route, Status
from roster.services.status import change_status
from roster.services.users import NewUser, add_users
from tests.conftest import new_tenant

WRITERS = 4
CHANGES = 40


def writer(url: str, workspace_id: str, user_ids: list[str], seed: int) -> str:
    """Flip users between statuses through several routes; report any storage error."""
    container = Container(Settings(database_url=url), make_engine(url))
    targets = [Status.INACTIVE, Status.ACTIVE, Status.BLOCKED, Status.ACTIVE]
    try:
        for i in range(CHANGES):
            uid = user_ids[(seed + i) % len(user_ids)]
            with contextlib.suppress(errors.DomainError):  # refusals are fine here
                change_status(
                    container.uow(),
                    workspace_id=workspace_id,
                    user_id=uid,
                    to=targets[(seed + i) % 4],
                    route=Route.CLI,
                    actor=Actor(id=None, name=f"writer {seed}"),
                    reason_code=ReasonCode.OTHER,
                    note="flip",
                    now=container.clock(),
                )
    except Exception as failure:  # the test reports what a user would see
        return f"{type(failure).__name__}: {failure}"
    finally:
        container.engine.dispose()
    return "ok"


def test_concurrent_writer_processes_all_succeed_and_the_counter_stays_exact(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'writers.db'}"
    engine = make_engine(url)
    upgrade(engine)
    container = Container(Settings(database_url=url), engine)
    tenant = new_tenant(container)
    with container.uow() as uow:
        people = add_users(
            uow,
            workspace_id=tenant.id,
            route=Route.CLI,
            actor=Actor(id=None, name="t"),
            now=container.clock(),
            batch_id=None,
            new=[NewUser(f"w{i}@x.example", f"W{i}") for i in range(6)],
        )
        uow.commit()
    ids = [p.id for p in people]
    with multiprocessing.get_context("spawn").Pool(WRITERS) as pool:
        results = pool.starmap(writer, [(url, tenant.id, ids, s) for s in range(WRITERS)])
    assert results == ["ok"] * WRITERS
    with engine.connect() as conn:
        statuses = [
            r.status
            for r in conn.execute(select(users.c.status).where(users.c.workspace_id == tenant.id))
        ]
        counts = conn.execute(
            select(user_counts).where(user_counts.c.workspace_id == tenant.id)
        ).one()
    assert counts.active == statuses.count("active")
    assert counts.inactive == statuses.count("inactive")
    assert counts.blocked == statuses.count("blocked")
    engine.dispose()


def test_a_read_only_unit_of_work_leaves_sqlite_free_for_a_writer(tmp_path: Path) -> None:
    """Sign-in reads the account and its counters while the password is checked:
    that read must not hold the database-wide write lock others queue on."""
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    engine = make_engine(url)
    upgrade(engine)
    container = Container(Settings(database_url=url), engine)
    tenant = new_tenant(container)
    now = container.clock()
    with container.uow().read_only() as reads:
        assert reads.throttles.read(tenant.id, ["account:a@x.example"]) == {}
        with container.uow() as writes:  # would wait on a write lock the reader held
            writes.throttles.counter_for_update(tenant.id, "account:a@x.example", now)
            writes.commit()
        with pytest.raises(RuntimeError):
            reads.commit()
    with container.uow().read_only() as reads:
        assert list(reads.throttles.read(tenant.id, ["account:a@x.example"])) == [
            "account:a@x.example"
        ]
    engine.dispose()
