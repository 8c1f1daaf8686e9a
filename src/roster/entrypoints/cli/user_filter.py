"""`--filter KEY=VALUE`: which users a CLI command means, as the API and the dashboard
take it (`roster bulk set-status`, `roster users list` and `export`)."""

from datetime import datetime
from typing import TypeVar

import typer

from roster.domain.filters import UserFilter, instant
from roster.domain.vocabulary import Role, Status
from roster.entrypoints.cli.common import fail

KEYS = ("status", "role", "q", "last_seen_before", "last_seen_after")
FILTER = typer.Option(
    [],
    "--filter",
    "-f",
    help="KEY=VALUE: status=active,inactive, role=member, q=text, "
    "last_seen_before/last_seen_after=2025-01-31 (midnight UTC) or a date-time.",
)


def parse_filter(parts: list[str], status: Status | None = None) -> UserFilter:
    """Every part given must hold; `status` is the older `--status` option."""
    values: dict[str, str] = {"status": status.value} if status else {}
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep or key.strip() not in KEYS:
            fail(f"--filter {part!r}: use KEY=VALUE with KEY one of {', '.join(KEYS)}.")
        values[key.strip()] = value.strip()
    try:
        return UserFilter(
            status=_items(Status, values.get("status")),
            role=_items(Role, values.get("role")),
            q=values.get("q") or None,
            last_seen_before=_instant(values.get("last_seen_before")),
            last_seen_after=_instant(values.get("last_seen_after")),
        )
    except ValueError as bad:
        fail(f"--filter: {bad}.")


E = TypeVar("E", Status, Role)


def _items(kind: type[E], raw: str | None) -> tuple[E, ...] | None:
    items = [s.strip().lower() for s in (raw or "").split(",") if s.strip()]
    return tuple(kind(s) for s in items) if items else None


def _instant(raw: str | None) -> datetime | None:
    return instant(raw) if raw else None
