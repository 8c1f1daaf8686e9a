"""Cursors of keyset pages, for the API's lists and the dashboard's alike.

A cursor is opaque to callers: the key of the last row of a page (the list's order,
then the id), as JSON in URL-safe base64. A forged one holds nothing a database
would refuse to compare with: text without NUL characters, and 64-bit integers.
"""

import base64
import binascii
import json
import math
from datetime import datetime
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError
from pydantic_core import to_jsonable_python

from roster.domain import errors
from roster.services.queries import Keyset

K = TypeVar("K")


def encode_cursor(*key: Any) -> str:
    """An opaque cursor holding `key` (strings, numbers, dates, instants, None)."""
    raw = json.dumps(to_jsonable_python(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, shape: type[K]) -> K:
    """The key a cursor holds, read as `shape` (a tuple type such as
    `tuple[date, str]`); `validation_error` if this list did not give it out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key: K = _reader(shape).validate_python(_storable(json.loads(raw)))
    except (ValueError, TypeError, binascii.Error, ValidationError):
        raise errors.InvalidInput(
            "cursor is not a cursor this list gave out; start without one."
        ) from None
    return key


def user_cursor(sort: str, at: Keyset) -> str:
    """The cursor of a users list in `sort` order (a users sort key) ending at `at`."""
    return encode_cursor(sort, at.value, at.id)


def user_keyset(cursor: str, sort: str) -> Keyset:
    """Where the users page a cursor names ended; a cursor of another sort is refused."""
    timed = sort.removeprefix("-") in ("created_at", "last_seen_at")
    shape = tuple[str, datetime | None, str] if timed else tuple[str, str, str]
    got_sort, value, last_id = decode_cursor(cursor, shape)
    if got_sort != sort:
        raise errors.InvalidInput(
            "cursor is not a cursor this list gave out for this sort; start without one."
        )
    return Keyset(value, last_id)


def _storable(key: Any) -> Any:
    if not isinstance(key, list):
        raise ValueError(key)
    for value in key:
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise ValueError(value)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(value)
        if isinstance(value, str):
            if "\x00" in value:
                raise ValueError(value)
            value.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError, a ValueError
        elif not isinstance(value, int | float):
            raise ValueError(value)
    return key


_READERS: dict[Any, TypeAdapter[Any]] = {}  # built once per shape: building costs


def _reader(shape: Any) -> TypeAdapter[Any]:
    if shape not in _READERS:
        _READERS[shape] = TypeAdapter(shape)
    return _READERS[shape]
