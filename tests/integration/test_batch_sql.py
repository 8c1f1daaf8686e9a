"""Set-based writes store what SQLAlchemy Core stores: a batch's rows written with
`insert_rows_sharing` (one JSON value on SQLite, COPY on PostgreSQL) read back
exactly like the same rows inserted one by one through Core."""

from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select

from roster.adapters.batch_sql import bind_value, insert_rows_sharing
from roster.adapters.tables import audit_events, users
from tests.conftest import Tenant

OWN = ("id", "seq", "user_id", "from_status", "hash")
USER_IDS = ("usr_plain", 'usr_"quoted"\\back', "usr_ünïcødé ✓")


def _rows(prefix: str, first_seq: int) -> list[tuple[object, ...]]:
    """Each entry's own values, with the awkward ones: None, quotes, backslashes,
    non-ASCII text, a large number."""
    return [
        (f"{prefix}_1", first_seq, USER_IDS[0], "active", "a" * 64),
        (f"{prefix}_2", first_seq + 1, USER_IDS[1], None, ""),
        (f"{prefix}_3", first_seq + 2, USER_IDS[2], "blocked", "f" * 64),
        (f"{prefix}_4", 2**40 + first_seq, USER_IDS[0], "inactive", "0" * 64),
    ]


def test_a_batch_stored_as_one_value_reads_back_as_core_stores_it(
    engine: Engine, tenant: Tenant
) -> None:
    at = datetime(2026, 12, 4, 18, 30, 1, 123456, tzinfo=UTC)
    shared = {
        "workspace_id": tenant.id,
        "to_status": "blocked",
        "route": "bulk",
        "actor_id": None,
        "actor_name": "Ada “the admin”",
        "reason_code": "other",
        "note": "line one\nline 'two'",
        "outcome": "applied",
        "request_id": None,
        "batch_id": "blk_test",
    }
    columns = [audit_events.c[name] for name in (*OWN, *shared, "at")]
    with engine.begin() as conn:
        owner = conn.execute(select(users).where(users.c.id == tenant.owner.id)).one()._asdict()
        for i, user_id in enumerate(USER_IDS):  # the entries' users (a foreign key)
            conn.execute(insert(users).values(owner | {"id": user_id, "email": f"u{i}@b.example"}))
        batch = _rows("evt_batch", 1_000)
        insert_rows_sharing(
            conn,
            audit_events,
            OWN,
            batch,
            shared | {"at": bind_value(conn, audit_events.c.at, at)},
        )
        for row in _rows("evt_core", 2_000):
            conn.execute(
                insert(audit_events).values(**dict(zip(OWN, row, strict=True)), **shared, at=at)
            )
        stored = conn.execute(
            select(*columns)
            .where(audit_events.c.batch_id == "blk_test", audit_events.c.workspace_id == tenant.id)
            .order_by(audit_events.c.id)
        ).all()
        conn.rollback()
    by_kind: dict[str, list[tuple[object, ...]]] = {"evt_batch": [], "evt_core": []}
    for row in stored:
        kind = row.id.rsplit("_", 1)[0]
        by_kind[kind].append((row.id.rsplit("_", 1)[1], row.seq % 1_000, *row[2:]))
    assert len(by_kind["evt_batch"]) == 4
    assert by_kind["evt_batch"] == by_kind["evt_core"]
    assert stored[0].at == at
    assert stored[0].actor_name == "Ada “the admin”"
    assert [r.user_id for r in stored[:4]] == [r[2] for r in batch]
