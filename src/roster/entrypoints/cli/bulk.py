"""`roster bulk`: one status for many users (route bulk), on the same job engine as
the API and dashboard, run here synchronously."""

import csv
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import typer
from rich.progress import Progress

from roster.domain import errors
from roster.domain.bulk import Job
from roster.domain.jobs import ResultRow
from roster.domain.vocabulary import ReasonCode, Status
from roster.entrypoints.cli.common import (
    REFUSED,
    container,
    emit_json,
    fail,
    operator,
    reported,
)
from roster.entrypoints.cli.refusals import REPORT, Refusals
from roster.entrypoints.cli.user_filter import FILTER, parse_filter
from roster.services import bulk, queries

app = typer.Typer(help="Bulk actions: set one status on many users.", no_args_is_help=True)

WORKSPACE = typer.Option(..., "--workspace", "-w", help="The workspace's slug.")
JSON = typer.Option(False, "--json", help="Print the result as JSON.")
CHUNK = typer.Option(
    None, "--chunk-size", min=1, max=10_000, help="Users per transaction (default: settings)."
)


def _workspace_id(slug: str) -> str:
    with reported(), container().engine.connect() as conn:
        return queries.workspace_by_slug(conn, slug).id


def _read_ids(path: Path) -> tuple[str, ...]:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text()
    except OSError as bad:
        fail(f"Cannot read {path}: {bad.strerror}.")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


@app.command("set-status")
def set_status(
    status: Status,
    workspace: str = WORKSPACE,
    filter_: list[str] = FILTER,
    ids: Path | None = typer.Option(
        None, "--ids", help="A file of user ids, one a line (-: stdin)."
    ),
    reason: ReasonCode | None = typer.Option(None, help="Reason code (needed to block)."),
    note: str | None = typer.Option(None, help="A note on the change."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only count what would happen."),
    chunk_size: int | None = CHUNK,
    report: Path | None = REPORT,
    json_out: bool = JSON,
) -> None:
    """Set STATUS on the users a filter (or an ids file) selects, through route bulk.

    A Blocked user is never changed: they are counted as refused (user_blocked).
    Exit 0 when every user was changed or already had STATUS, 1 when the rules
    refused any (the first 20 listed; --report FILE lists them all), 2 on bad input.
    A dry run changes nothing and exits 0.
    """
    if bool(filter_) == (ids is not None):
        fail("Select users with --filter (one or more) or with --ids, not both.")
    c = container()
    workspace_id = _workspace_id(workspace)
    request = bulk.BulkRequest(
        to=status,
        user_ids=_read_ids(ids) if ids is not None else None,
        filter=parse_filter(filter_) if filter_ else None,
        reason_code=reason,
        note=note,
        dry_run=dry_run,
    )
    with reported():
        if dry_run:
            shown = bulk.preview(
                c.uow(),
                workspace_id=workspace_id,
                request=request,
                actor=operator(),
            )
            _print_preview(shown, json_out)
            return
        job, _ = bulk.start_job(
            c.uow(), workspace_id=workspace_id, request=request, actor=operator(), now=c.clock()
        )
        job = _run(job, chunk_size, json_out)
    _print_job(job, json_out)
    with Refusals(report, "user") as refusals:
        for row in _refused(job):
            refusals.add(row.user_id, row.email or "", row.code or "")
        if not json_out:
            refusals.print()
    if job.state == "failed":
        raise typer.Exit(REFUSED)
    refusals.exit()


def _refused(job: Job) -> Iterator[ResultRow]:
    """The job's refused users in id order, page by page."""
    after, uow = None, container().uow()
    while page := bulk.list_results(
        uow, job.workspace_id, job.id, after=after, limit=5000, outcome="refused"
    ):
        yield from page
        after = page[-1].user_id


def _run(job: Job, chunk_size: int | None, quiet: bool) -> Job:
    c = container()
    tuning = c.jobs if chunk_size is None else replace(c.jobs, chunk=chunk_size)
    with Progress(transient=True, disable=quiet or not sys.stderr.isatty()) as bar:
        task = bar.add_task("Changing", total=job.total or None)
        return bulk.run_job(
            c.uow,
            workspace_id=job.workspace_id,
            job_id=job.id,
            clock=c.clock,
            tuning=tuning,
            progress=lambda j: bar.update(task, completed=j.processed),
        )


@app.command("run")
def run(
    job_id: str = typer.Argument(..., help="The job's id."),
    workspace: str = WORKSPACE,
    chunk_size: int | None = CHUNK,
    json_out: bool = JSON,
) -> None:
    """Run (or resume) a queued bulk action here until it is done."""
    c = container()
    workspace_id = _workspace_id(workspace)
    with reported():
        job = bulk.get_job(c.uow(), workspace_id, job_id)
    _print_job(_run(job, chunk_size, json_out), json_out)


@app.command("show")
def show(job_id: str, workspace: str = WORKSPACE, json_out: bool = JSON) -> None:
    """A bulk action's state, progress and counts."""
    workspace_id = _workspace_id(workspace)
    with reported():
        job = bulk.get_job(container().uow(), workspace_id, job_id)
    _print_job(job, json_out)


@app.command("results")
def results(job_id: str, workspace: str = WORKSPACE) -> None:
    """Every user's result as CSV: user_id,email,name,from_status,outcome,code."""
    workspace_id = _workspace_id(workspace)
    with reported():
        out = csv.writer(sys.stdout)
        out.writerow(CSV_HEADER)
        for row in bulk.iter_results(container().uow(), workspace_id, job_id):
            out.writerow(csv_row(row))


CSV_HEADER = ("user_id", "email", "name", "from_status", "outcome", "code")


def csv_row(r: ResultRow) -> tuple[str, ...]:
    return (
        r.user_id,
        _defuse(r.email or ""),
        _defuse(r.name or ""),
        r.from_status.value if r.from_status else "",
        r.result,
        r.code or "",
    )


def _defuse(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    return "'" + cell if cell.startswith(("=", "+", "-", "@", "\t", "\r")) else cell


def job_json(job: Job) -> dict[str, Any]:
    t = job.tally
    return {
        "id": job.id,
        "state": job.state,
        "dry_run": job.dry_run,
        "status": job.to.value,
        "total": job.total,
        "processed": job.processed,
        "applied": t.applied,
        "unchanged": t.unchanged,
        "refused": t.refused_total,
        "refused_by_code": t.refused,
        "active_delta": t.active_delta,
        "revoked": job.revoked,
        "error": job.error,
    }


def _print_job(job: Job, json_out: bool) -> None:
    if json_out:
        emit_json(job_json(job))
        return
    t = job.tally
    typer.echo(
        f"Bulk action {job.id}: {job.state}. {job.processed} of {job.total} users: "
        f"{t.applied} changed to {job.to.value}, {t.unchanged} unchanged, "
        f"{t.refused_total} refused."
    )
    _print_refusals(t.refused)
    if job.error:
        typer.echo(f"Last error: {job.error}", err=True)


def _print_preview(p: bulk.Preview, json_out: bool) -> None:
    t = p.tally
    if json_out:
        emit_json(
            {
                "dry_run": True,
                "would_change": t.applied,
                "unchanged": t.unchanged,
                "refused": t.refused_total,
                "refused_by_code": t.refused,
                "active_before": p.active_before,
                "active_after": p.active_after,
            }
        )
        return
    typer.echo(
        f"Dry run, nothing changed: {t.applied} would change, {t.unchanged} unchanged, "
        f"{t.refused_total} refused. Active users: {p.active_before} → {p.active_after}."
    )
    _print_refusals(t.refused)


def _print_refusals(refused: dict[str, int]) -> None:
    for code, n in sorted(refused.items()):
        typer.echo(f"  refused {code}: {n}")
    if refused.get(errors.UserBlocked.code):
        typer.echo(
            "  Blocked users are never changed by a bulk action; an admin can lift a block "
            "on the user's profile."
        )
