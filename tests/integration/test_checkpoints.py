"""A bulk job (or an automation run) on SQLite checkpoints its WAL on a thread of its
own, and ends with its changes in the database file itself."""

import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from roster.adapters import checkpoints
from roster.adapters.database import make_engine
from roster.adapters.migrator import upgrade
from roster.bootstrap import Container
from roster.config import Settings
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services import automations, bulk
from roster.services.users import NewUser, add_users
from tests.conftest import new_tenant

ADMIN = Actor(id=None, name="admin")
DORMANT = {
    "name": "Dormant",
    "trigger": {"type": "schedule", "daily_at": "03:00"},
    "conditions": [{"field": "last_seen_days", "op": "gt", "value": 90}],
    "action": {"type": "set_status", "status": "inactive"},
}


@pytest.fixture
def sqlite_container(tmp_path: Path) -> Container:
    url = f"sqlite:///{tmp_path / 'roster.db'}"
    engine = make_engine(url)
    upgrade(engine)
    return Container(Settings(database_url=url), engine)


def block_everyone(c: Container, n: int, size: int) -> tuple[str, bulk.Job]:
    """A workspace of `n` Active members, all blocked by one job in chunks of `size`."""
    tenant = new_tenant(c)
    with c.uow() as uow:
        made = add_users(
            uow,
            workspace_id=tenant.id,
            new=[NewUser(f"u{i}@x.example", f"U {i}", Role.MEMBER) for i in range(n)],
            route=Route.CLI,
            actor=ADMIN,
            now=c.clock(),
            batch_id=None,
        )
        uow.commit()
    job, _ = bulk.start_job(
        c.uow,
        workspace_id=tenant.id,
        request=bulk.BulkRequest(
            Status.BLOCKED, user_ids=tuple(u.id for u in made), reason_code=ReasonCode.OTHER
        ),
        actor=ADMIN,
        now=c.clock(),
    )
    done = bulk.run_job(c.uow, workspace_id=tenant.id, job_id=job.id, clock=c.clock, size=size)
    return tenant.id, done


def in_the_file_alone(engine: Engine, tmp_path: Path, workspace_id: str, status: str) -> int:
    """Users in `status` in a copy of the database file without its WAL: what a batch
    left in the file itself (a WAL not yet checkpointed is not in it)."""
    path = Path(str(engine.url.database))
    alone = tmp_path / "alone.db"
    shutil.copyfile(path, alone)
    with sqlite3.connect(alone) as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM users WHERE workspace_id = ? AND status = ?",
                (workspace_id, status),
            ).fetchone()[0]
        )


def test_a_bulk_job_ends_with_its_changes_checkpointed_into_the_database_file(
    sqlite_container: Container, tmp_path: Path
) -> None:
    # 60 users in chunks of 7: a WAL far under SQLite's own 1,000-page autocheckpoint,
    # so only the job's checkpoints can have put the changes into the file.
    workspace_id, done = block_everyone(sqlite_container, 60, 7)
    assert (done.state, done.tally.applied, done.chunks) == ("done", 60, 9)
    engine = sqlite_container.engine
    assert in_the_file_alone(engine, tmp_path, workspace_id, "blocked") == 60


def test_a_deferred_commit_gives_its_pooled_connection_back_as_it_was(
    sqlite_container: Container,
) -> None:
    engine = sqlite_container.engine
    checkpointer = checkpoints.Checkpointer(engine)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_autocheckpoint=321")
            conn.exec_driver_sql("CREATE TABLE scratch (x INTEGER)")
            with checkpointer.deferred(conn):
                inside = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
                conn.commit()
            after = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
        checkpointer.settle()
    finally:
        checkpointer.close()
    assert (inside, after) == (0, 321)


def test_a_failed_checkpoint_does_not_fail_the_job_and_is_logged(
    sqlite_container: Container,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The checkpoint is housekeeping: the commits are already durable in the WAL.
    def refuse(self: checkpoints.Checkpointer) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(checkpoints.Checkpointer, "_passive", refuse)
    workspace_id, done = block_everyone(sqlite_container, 20, 5)
    assert (done.state, done.tally.applied) == ("done", 20)
    assert "A background WAL checkpoint failed." in caplog.text
    with sqlite_container.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    assert in_the_file_alone(sqlite_container.engine, tmp_path, workspace_id, "blocked") == 20


def test_a_job_waits_for_its_checkpoints_every_few_commits(
    sqlite_container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Settling every commit: after each chunk's commit the job waits until that chunk
    # is checkpointed, so the next one starts the WAL over.
    settled: list[int] = []
    real_settle = checkpoints.Checkpointer.settle

    def settle(self: checkpoints.Checkpointer) -> None:
        settled.append(len(settled))
        real_settle(self)

    monkeypatch.setattr(checkpoints, "SETTLE_EVERY", 1)
    monkeypatch.setattr(checkpoints.Checkpointer, "settle", settle)
    _, done = block_everyone(sqlite_container, 30, 5)
    assert (done.chunks, len(settled)) == (7, 7)


def test_an_automation_run_ends_with_its_changes_checkpointed_into_the_database_file(
    sqlite_container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = sqlite_container
    tenant = new_tenant(c)
    long_ago = c.clock() - timedelta(days=200)
    with c.uow() as uow:
        add_users(
            uow,
            workspace_id=tenant.id,
            new=[
                NewUser(f"u{i}@x.example", f"U {i}", Role.MEMBER, last_seen_at=long_ago)
                for i in range(25)
            ],
            route=Route.CLI,
            actor=ADMIN,
            now=c.clock(),
            batch_id=None,
        )
        uow.commit()
    monkeypatch.setattr(automations, "CHUNK", 4)
    rule = automations.create_rule(
        c.engine,
        workspace_id=tenant.id,
        data=DORMANT,
        route=Route.CLI,
        created_by=ADMIN,
        now=c.clock(),
    )
    run = automations.start_run(
        c.engine, workspace_id=tenant.id, rule_id=rule.id, dry_run=False, clock=c.clock
    )
    assert (run.state, run.applied) == ("succeeded", 25)
    assert in_the_file_alone(c.engine, tmp_path, tenant.id, "inactive") == 25
