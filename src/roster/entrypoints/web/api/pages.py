"""The one shape of every list in the API: `{items, next_cursor}`, asked for with
`limit` and `cursor`.

A cursor (services/cursors.py) is the key of the last row of the page (the list's
order, then the id). Every list pages by that key
(keyset pagination, never OFFSET), so page 10,000 costs what page 1 costs and rows
added meanwhile are neither skipped nor repeated. A list fetches `limit + 1` rows:
the extra one only says whether there is a next page.
"""

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from roster.services.cursors import decode_cursor, encode_cursor

T = TypeVar("T")
R = TypeVar("R")
P = TypeVar("P", bound="Page[Any]")

CURSOR_HELP = "Where to continue: the `next_cursor` of the previous page (omit for the first)."

Cursor = Annotated[str | None, Query(max_length=1000, description=CURSOR_HELP)]
"""The `cursor` query parameter of every list."""


def page_size(most: int) -> Any:
    """The `limit` query parameter of a list that answers at most `most` items a page:
    `limit: Annotated[int, page_size(200)] = 50`."""
    return Query(ge=1, le=most, description=f"Items per page (1 to {most}).")


class Page(BaseModel, Generic[T]):
    """A page of a list."""

    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


def cursor_id(cursor: str | None) -> str | None:
    """The id in the cursor of a list ordered by id alone (None: the first page)."""
    return decode_cursor(cursor, tuple[str])[0] if cursor else None


def page_of(
    model: type[P],
    rows: Sequence[R],
    limit: int,
    item: Callable[[R], Any],
    key: Callable[[R], tuple[Any, ...]],
) -> P:
    """The `model` page (e.g. `Page[UserOut]`) of `rows` fetched with `limit + 1`:
    the items, and a cursor at the last one's `key` when the extra row shows more."""
    shown = rows[:limit]
    more = len(rows) > limit and len(shown) > 0
    return model(
        items=[item(r) for r in shown],
        next_cursor=encode_cursor(*key(shown[-1])) if more else None,
    )
