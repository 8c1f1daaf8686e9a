"""`column IN (…)` for a statement built once and run many times.

An expanding IN parameter (`bindparam(..., expanding=True)`) makes SQLAlchemy rewrite
the statement's SQL on every execution, which costs more than the query itself on a
one-row lookup or a page of 50. Up to a handful of values the list is built instead
with one bound parameter per value: a statement per count of values, each built once.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam

# Up to this many values, one bound parameter per value; beyond, an expanding one.
FIXED_IN = 8


def bound_in(column: Any, name: str, count: int) -> Any:
    """`column IN (:name)` for `count` values, bound as `bound_in_values` binds them."""
    if count > FIXED_IN:
        return column.in_(bindparam(name, expanding=True))
    return column.in_([bindparam(f"{name}_{i}") for i in range(count)])


def bound_in_values(name: str, values: Sequence[Any]) -> dict[str, Any]:
    """The parameters of `bound_in(column, name, len(values))` for `values`."""
    if len(values) > FIXED_IN:
        return {name: list(values)}
    return {f"{name}_{i}": v for i, v in enumerate(values)}
