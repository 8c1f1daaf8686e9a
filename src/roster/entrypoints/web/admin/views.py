"""Small helpers the dashboard's views share."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

from roster.bootstrap import Container


class PageNotFound(Exception):
    """The dashboard's 404: a plain page, not an API problem."""


@contextmanager
def reading(container: Container) -> Iterator[Connection]:
    """A read-only connection for one page's queries."""
    with container.engine.connect() as conn:
        yield conn


def safe_next(value: str | None, default: str = "/admin/users") -> str:
    """Only a path inside the dashboard may follow sign-in (no open redirect)."""
    if value and value.startswith("/admin") and not value.startswith("//") and "\\" not in value:
        return value
    return default
