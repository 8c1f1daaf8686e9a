"""`roster billing`: usage reports, verification of the counts, and snapshots."""

import sys
from datetime import date
from enum import StrEnum

import typer

from roster.domain.workspaces import UserCounts
from roster.entrypoints.cli.common import REFUSED, container, emit_json, fail, reported
from roster.services import billing, queries

app = typer.Typer(help="Active user counts and usage over time.", no_args_is_help=True)

WORKSPACE = typer.Option(..., "--workspace", "-w", help="The workspace's slug.")


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{name} must be a date like 2025-01-31, not {value!r}.")


@app.command("report")
def report(
    workspace: str = WORKSPACE,
    first: str = typer.Option(
        ..., "--from", help="First day (YYYY-MM-DD), in the workspace's days."
    ),
    last: str = typer.Option(..., "--to", help="Last day, inclusive."),
    format: Format = typer.Option(Format.TABLE, "--format", help="table, json or csv."),
    json_out: bool = typer.Option(False, "--json", help="Same as --format json."),
) -> None:
    """Per day: the peak and closing number of Active users, and the seat-days."""
    start, end = _day(first, "--from"), _day(last, "--to")
    with reported(), container().engine.connect() as conn:
        ws = queries.workspace_by_slug(conn, workspace)
        result = billing.usage(conn, ws, start, end)
    if json_out or format == Format.JSON:
        emit_json(result.as_dict())
    elif format == Format.CSV:
        sys.stdout.write(billing.as_csv(result).replace("\r\n", "\n"))
    else:
        _table(result)


def _table(result: billing.UsageReport) -> None:
    typer.echo(f"Active users per day ({result.timezone} days)")
    typer.echo(f"{'date':<12}{'peak':>8}{'closing':>9}{'seat-days':>11}")
    for d in result.days:
        typer.echo(f"{d.day.isoformat():<12}{d.peak:>8}{d.closing:>9}{d.seat_days:>11}")
    t = result.totals
    typer.echo(f"{'total':<12}{t.peak:>8}{t.closing:>9}{t.seat_days:>11}")


@app.command("verify")
def verify(
    workspace: str = WORKSPACE,
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Recount users by status from the users table and from the audit log, and
    compare with the counter and the snapshots; exit 1 if anything differs."""
    c = container()
    with reported(), c.engine.connect() as conn:
        workspace_id = queries.workspace_by_slug(conn, workspace).id
    check = billing.verify(c.uow(), workspace_id)
    if json_out:
        emit_json(
            {
                "ok": check.ok,
                "counter": _counts(check.counter),
                "users_table": _counts(check.from_users),
                "audit_log": _counts(check.from_audit),
                "differences": check.differences,
            }
        )
    elif check.ok:
        n = check.counter
        typer.echo(
            f"The counts of {workspace} agree: {n.active} active, {n.inactive} inactive, "
            f"{n.blocked} blocked (counter, users table and audit log)."
        )
    else:
        typer.echo(f"The counts of {workspace} disagree:", err=True)
        for line in check.differences:
            typer.echo(f"  {line}", err=True)
    if not check.ok:
        raise typer.Exit(REFUSED)


def _counts(n: UserCounts) -> dict[str, int]:
    return {"active": n.active, "inactive": n.inactive, "blocked": n.blocked}


@app.command("snapshot")
def snapshot(
    workspace: str | None = typer.Option(
        None, "--workspace", "-w", help="One workspace (default: every workspace)."
    ),
    rebuild: bool = typer.Option(
        False, "--rebuild", help="Drop the saved days and recompute them from the audit log."
    ),
) -> None:
    """Save the daily usage of every sealed day (what `roster serve` does nightly)."""
    c = container()
    now = c.clock()
    if workspace is None:
        written = billing.build_all_snapshots(c.uow(), now, rebuild=rebuild)
    else:
        with reported(), c.engine.connect() as conn:
            workspace_id = queries.workspace_by_slug(conn, workspace).id
        build = billing.rebuild_snapshots if rebuild else billing.build_snapshots
        written = build(c.uow(), workspace_id, now)
    typer.echo(f"Saved {written} day{'s' if written != 1 else ''} of usage.")
