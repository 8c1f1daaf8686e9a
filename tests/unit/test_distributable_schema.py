"""The schema stays distributable by workspace (docs/scaling.md): on a distributed
PostgreSQL (Citus) every table but the reference tables is split by `workspace_id`,
which each primary key, unique constraint and foreign key must then start with."""

from sqlalchemy import ForeignKeyConstraint, PrimaryKeyConstraint, Table, UniqueConstraint

from roster.adapters.tables import metadata

REFERENCE_TABLES = {
    # One row per tenant, read by every node; its unique slug is global (sign-in
    # names a workspace by slug before anything knows its id).
    "workspaces",
}
DISTRIBUTED = [t for t in metadata.sorted_tables if t.name not in REFERENCE_TABLES]


def keys_of(table: Table) -> list[tuple[str, list[str]]]:
    kinds = (PrimaryKeyConstraint, UniqueConstraint, ForeignKeyConstraint)
    found = [
        (f"{type(c).__name__} {c.name}", [col.name for col in c.columns])
        for c in table.constraints
        if isinstance(c, kinds)
    ]
    found += [
        (f"unique index {i.name}", [col.name for col in i.columns])
        for i in table.indexes
        if i.unique
    ]
    return found


def test_every_key_of_every_distributed_table_starts_with_workspace_id() -> None:
    wrong = [
        f"{table.name}: {what} {columns}"
        for table in DISTRIBUTED
        for what, columns in keys_of(table)
        if columns[:1] != ["workspace_id"]
    ]
    assert wrong == []


def test_foreign_keys_meet_a_reference_table_or_the_same_workspace() -> None:
    """A distributed row may point at a reference table, or at a row of its own
    workspace (the key's first column is the target's workspace_id), never across."""
    wrong = []
    for table in DISTRIBUTED:
        for fk in (c for c in table.constraints if isinstance(c, ForeignKeyConstraint)):
            target = fk.elements[0].column.table.name
            first = fk.elements[0].column.name
            if target not in REFERENCE_TABLES and first != "workspace_id":
                wrong.append(f"{table.name} → {target}")
    assert wrong == []


def test_reference_tables_point_at_no_distributed_table() -> None:
    for name in REFERENCE_TABLES:
        table = metadata.tables[name]
        targets = {fk.column.table.name for fk in table.foreign_keys}
        assert targets <= REFERENCE_TABLES, f"{name} points at {targets - REFERENCE_TABLES}"
