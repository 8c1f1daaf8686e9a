"""Set-based writes for batches: many ids as one parameter, many rows in one go.

`ids_in` passes a list of ids as ONE bound value (an array on PostgreSQL, a JSON
array read by `json_each` on SQLite) instead of an `IN (?, ?, …)` list that
SQLAlchemy expands and renders per id; `insert_ids` inserts a row per id the same
way. `insert_rows` writes rows of plain tuples with the driver's fastest path (COPY
on PostgreSQL, executemany on SQLite), after the columns' own bind processing, so
stored values are the same as through Core; `insert_rows_sharing` writes rows that
share most of their values (a batch's audit entries), as one JSON value on SQLite;
`Writes` runs several named UPDATEs together and counts each one's rows.
"""

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    Column,
    ColumnElement,
    Connection,
    Dialect,
    Select,
    String,
    Table,
    any_,
    bindparam,
    func,
    insert,
    literal,
    literal_column,
    select,
)

CHUNK = 900  # ids per IN (...) list: under SQLite's default variable limit with room to spare
ID_SET = 10_000  # ids per `ids_in` value (one bound parameter, so no variable limit)


def chunks(seq: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


def ids_in(conn: Connection, column: Column[Any], ids: Sequence[str]) -> ColumnElement[bool]:
    """`column` is one of `ids`, with the ids bound as a single value."""
    return among(conn, ids)(column)


def among(conn: Connection, ids: Sequence[str]) -> Callable[[Any], ColumnElement[bool]]:
    """`ids_in` for several statements over the same ids: the bound value (the ids'
    JSON on SQLite) is made once, then each call tests one column against it."""
    if conn.dialect.name == "postgresql":
        array = bindparam(None, list(ids), type_=ARRAY(String))
        return lambda column: column == any_(array)
    listed = _listed(conn, ids).scalar_subquery()
    return lambda column: column.in_(listed)


def insert_ids(
    conn: Connection, table: Table, id_column: str, ids: Sequence[str], values: dict[str, Any]
) -> None:
    """INSERT one row per id into `table`: the id in `id_column`, `values` in the other
    columns of every row. Set-based: the ids are one bound value."""
    if not ids:
        return
    shared = [literal(v, type_=table.c[k].type).label(k) for k, v in values.items()]
    listed = _listed(conn, ids).subquery()
    rows = select(*shared, listed.c.value)
    conn.execute(insert(table).from_select([*values, id_column], rows))


def insert_grouped(
    conn: Connection,
    table: Table,
    id_column: str,
    rows: Iterable[tuple[str, tuple[tuple[str, Any], ...]]],
    shared: dict[str, Any],
) -> None:
    """INSERT a row per (id, values): one `insert_ids` per distinct values (a chunk's
    per-user outcomes are of few kinds), each with the `shared` values too."""
    groups: dict[tuple[tuple[str, Any], ...], list[str]] = {}
    for row_id, values in rows:
        groups.setdefault(values, []).append(row_id)
    for values, ids in groups.items():
        insert_ids(conn, table, id_column, ids, shared | dict(values))


def _listed(conn: Connection, ids: Sequence[str]) -> Select[tuple[Any]]:
    """The ids as rows of one column, `value`."""
    if conn.dialect.name == "postgresql":
        return select(func.unnest(bindparam(None, list(ids), type_=ARRAY(String))).label("value"))
    return select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(list(ids)), type_=String))
    )


def insert_rows(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    bound: bool = False,
) -> None:
    """INSERT `rows` (tuples in the order of `columns`) into `table`. `bound`: the
    values already went through `bind_value` where their column needs it."""
    if not rows:
        return
    dialect = conn.dialect
    processors = [
        (i, p)
        for i, name in enumerate(columns)
        if (p := _bind_processor(table.c[name], dialect)) is not None
    ]
    if processors and not bound:
        rows = _processed(rows, processors)
    names = ", ".join(columns)
    if dialect.name == "postgresql":
        driver = conn.connection.driver_connection
        assert driver is not None
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # noqa: S608 - schema names
    conn.exec_driver_sql(sql, list(rows))


def insert_rows_sharing(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    shared: Mapping[str, Any],
) -> None:
    """INSERT `rows` (tuples in the order of `columns`: text, numbers or None, which
    need no bind processing), each with the `shared` columns' values too (already
    bound: `bind_value`). On SQLite the rows go as ONE bound value, a JSON array
    read by json_each: for 2,500 audit rows ~13 ms against ~18 ms for executemany,
    which binds every value of every row; elsewhere `insert_rows` (COPY)."""
    if not rows:
        return
    names = (*columns, *shared)
    if conn.dialect.name != "sqlite":
        tail = tuple(shared.values())
        insert_rows(conn, table, names, [(*r, *tail) for r in rows], bound=True)
        return
    picks = [f"json_extract(value, '$[{i}]')" for i in range(len(columns))]
    values = ", ".join([*picks, *("?" for _ in shared)])
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {values} FROM json_each(?)"  # noqa: S608
    conn.exec_driver_sql(sql, (*shared.values(), json.dumps(rows)))


def bind_value(conn: Connection, column: Column[Any], value: Any) -> Any:
    """`value` as `column`'s type binds it (a shared value of many rows, done once)."""
    process = _bind_processor(column, conn.dialect)
    return value if process is None or value is None else process(value)


def _bind_processor(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """How `column`'s type turns a value into what the driver takes on `dialect` (the
    public spelling of what Core does before it binds a value)."""
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def _processed(
    rows: Sequence[Sequence[Any]], processors: Sequence[tuple[int, Any]]
) -> list[tuple[Any, ...]]:
    """The rows with the columns that have a bind processor processed, each distinct
    value once (a batch's rows mostly share their timestamps)."""
    out = [list(row) for row in rows]
    for i, process in processors:
        seen: dict[Any, Any] = {}
        for row in out:
            value = row[i]
            if value is None:
                continue
            try:
                row[i] = seen[value]
            except KeyError:
                row[i] = seen[value] = process(value)
            except TypeError:  # unhashable (a JSON document): process it alone
                row[i] = process(value)
    return [tuple(row) for row in out]


class Writes:
    """Named INSERT/UPDATE statements run together, each row count by name. On
    PostgreSQL in ONE round trip: each a data-modifying CTE (all run on one
    snapshot, so they must touch disjoint rows), counted by the main SELECT, built
    when first run there. On SQLite (in-process: a statement costs no round trip)
    one after the other."""

    __slots__ = ("_together", "each", "names")

    def __init__(self, names: tuple[str, ...], each: tuple[Any, ...]) -> None:
        self.names, self.each = names, each
        self._together: Any = None

    @classmethod
    def of(cls, writes: Sequence[tuple[str, Any]]) -> "Writes":
        return cls(tuple(n for n, _ in writes), tuple(w for _, w in writes))

    def together(self) -> Any:
        if self._together is None:
            ctes = [
                w.returning(literal_column("1")).cte(f"w_{name}")
                for name, w in zip(self.names, self.each, strict=True)
            ]
            self._together = select(
                *(select(func.count()).select_from(c).scalar_subquery() for c in ctes)
            )
        return self._together

    def run(self, conn: Connection, params: dict[str, Any] | None = None) -> dict[str, int]:
        if conn.dialect.name == "postgresql":
            counts = tuple(conn.execute(self.together(), params).one())
        else:
            counts = tuple(conn.execute(w, params).rowcount for w in self.each)
        return dict(zip(self.names, counts, strict=True))
