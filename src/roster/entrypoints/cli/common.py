"""What every command shares: the container, the operator actor, errors and output."""

import getpass
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, NoReturn

import typer

from roster.bootstrap import Container, bootstrap
from roster.domain import errors
from roster.domain.users import Actor

BAD_INPUT = 2  # unknown names, malformed files, values out of range: nothing changed
REFUSED = 1  # the rules refused a well-formed request (the refusal is audited)


@lru_cache(maxsize=1)
def container() -> Container:
    return bootstrap()


def operator() -> Actor:
    """The person at the server's command line (route cli): break-glass, named."""
    return Actor(id=None, name=f"cli:{getpass.getuser()}")


def fail(message: str, code: int = BAD_INPUT) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def reported() -> Iterator[None]:
    """Turn a domain refusal into a plain sentence on stderr and an exit code."""
    try:
        yield
    except errors.DomainError as refusal:
        bad_input = isinstance(refusal, errors.InvalidInput | errors.NotFound)
        fail(f"{refusal.detail} ({refusal.code})", BAD_INPUT if bad_input else REFUSED)


def echo_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Rows under a header row, each column as wide as its widest cell; None is blank."""
    cells = [list(header), *(["" if c is None else str(c) for c in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
