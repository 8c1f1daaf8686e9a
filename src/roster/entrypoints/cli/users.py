"""`roster users`: add, set, list, show, import, export, set-status and review
(route cli)."""

import csv
import sys
from datetime import date, datetime
from pathlib import Path

import typer
from rich.progress import Progress

from roster.domain.audit import AuditEntry
from roster.domain.filters import instant
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.entrypoints.cli.common import (
    container,
    echo_table,
    emit_json,
    fail,
    operator,
    reported,
)
from roster.entrypoints.cli.refusals import REPORT, Refusals
from roster.entrypoints.cli.user_filter import FILTER, parse_filter
from roster.services import queries
from roster.services.imports import check_file, import_file
from roster.services.reviews import record_review
from roster.services.status import change_status
from roster.services.users import NewUser, create_user, update_user

app = typer.Typer(help="Users of a workspace.", no_args_is_help=True)

WORKSPACE = typer.Option(..., "--workspace", "-w", help="The workspace's slug.")
JSON = typer.Option(False, "--json", help="Print the result as JSON.")


def _workspace_id(slug: str) -> str:
    with reported(), container().engine.connect() as conn:
        return queries.workspace_by_slug(conn, slug).id


@app.command("add")
def add(
    email: str,
    workspace: str = WORKSPACE,
    name: str | None = typer.Option(None, help="Full name (default: from the email)."),
    role: Role = typer.Option(Role.MEMBER, help="owner, admin or member."),
    password: str | None = typer.Option(None, help="A password to sign in with."),
    status: Status = typer.Option(Status.ACTIVE, help="active, inactive or blocked."),
    reason: ReasonCode | None = typer.Option(None, help="Reason code (needed for blocked)."),
    note: str | None = typer.Option(None, help="A note on the status."),
    expires: str | None = typer.Option(
        None, "--expires", help="When the account ends (YYYY-MM-DD or ISO date-time)."
    ),
    json_out: bool = JSON,
) -> None:
    """Add a user to a workspace."""
    c = container()
    workspace_id = _workspace_id(workspace)
    new = NewUser(
        email=email,
        name=name or email.split("@", maxsplit=1)[0],
        role=role,
        status=status,
        reason_code=reason,
        note=note,
        expires_at=_when(expires) if expires else None,
    )
    with reported():
        user = create_user(
            c.uow(),
            workspace_id=workspace_id,
            new=new,
            password=password,
            route=Route.CLI,
            actor=operator(),
            now=c.clock(),
        )
    if json_out:
        emit_json({"id": user.id, "email": user.email, "status": user.status.value})
    else:
        typer.echo(f"Added {user.email} ({user.id}) as {user.role.value}, {user.status.value}.")


@app.command("set-status")
def set_status(
    email: str,
    status: Status,
    workspace: str = WORKSPACE,
    reason: ReasonCode | None = typer.Option(None, help="Reason code (needed to block)."),
    note: str | None = typer.Option(None, help="A note (needed to lift a block)."),
    review_by: str | None = typer.Option(
        None, "--review-by", help="Blocking: the review date (default: the reason's days)."
    ),
    json_out: bool = JSON,
) -> None:
    """Change one user's status from the server (route cli: may lift a block)."""
    c = container()
    workspace_id = _workspace_id(workspace)
    with reported():
        with c.engine.connect() as conn:
            user_id = queries.user_by_email(conn, workspace_id, email).user.id
        result = change_status(
            c.uow(),
            workspace_id=workspace_id,
            user_id=user_id,
            to=status,
            route=Route.CLI,
            actor=operator(),
            reason_code=reason,
            note=note,
            now=c.clock(),
            review_by=_day(review_by) if review_by else None,
        )
    revoked = result.revoked
    if json_out:
        emit_json(
            {
                "id": result.user.id,
                "status": result.user.status.value,
                "changed": result.changed,
                "revoked": {
                    "sessions": revoked.sessions,
                    "tokens": revoked.tokens,
                    "invitations": revoked.invitations,
                },
            }
        )
    elif result.changed:
        typer.echo(
            f"{result.user.email} is now {status.value}. Revoked {revoked.sessions} "
            f"session(s), {revoked.tokens} token(s), {revoked.invitations} invitation(s)."
        )
    else:
        typer.echo(f"{result.user.email} is already {status.value}; nothing changed.")


@app.command("set")
def set_user(
    email: str,
    workspace: str = WORKSPACE,
    expires: str = typer.Option(
        ..., "--expires", help="When the account ends (YYYY-MM-DD or ISO date-time), or never."
    ),
) -> None:
    """Change when a user's account ends (audited; `--expires never` removes it)."""
    c = container()
    workspace_id = _workspace_id(workspace)
    when = None if expires.strip().lower() == "never" else _when(expires)
    with reported():
        with c.engine.connect() as conn:
            user_id = queries.user_by_email(conn, workspace_id, email).user.id
        update_user(
            c.uow(),
            workspace_id=workspace_id,
            user_id=user_id,
            expires_at=when,
            route=Route.CLI,
            actor=operator(),
            now=c.clock(),
        )
    typer.echo(f"{email} expires {when.isoformat() if when else 'never'}.")


@app.command("review")
def review(
    email: str,
    workspace: str = WORKSPACE,
    until: str = typer.Option(..., "--until", help="Keep Blocked until this day (YYYY-MM-DD)."),
    note: str = typer.Option(..., "--note", help="Why the block stays."),
) -> None:
    """Record a review of a Blocked user: a new review date and why (audited)."""
    c = container()
    workspace_id = _workspace_id(workspace)
    day = _day(until)
    with reported():
        with c.engine.connect() as conn:
            user_id = queries.user_by_email(conn, workspace_id, email).user.id
        record_review(
            c.uow(),
            workspace_id=workspace_id,
            user_id=user_id,
            review_by=day,
            note=note,
            route=Route.CLI,
            actor=operator(),
            now=c.clock(),
        )
    typer.echo(f"{email} stays Blocked until {day.isoformat()}.")


def _when(raw: str) -> datetime:
    try:
        return instant(raw.strip())
    except ValueError:
        fail(f"{raw!r} is not a date (YYYY-MM-DD) or an ISO 8601 date-time.")


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        fail(f"{raw!r} is not a date (YYYY-MM-DD).")


@app.command("show")
def show(email: str, workspace: str = WORKSPACE, json_out: bool = JSON) -> None:
    """Show one user, with their status history (refused attempts included)."""
    c = container()
    workspace_id = _workspace_id(workspace)
    with reported(), c.engine.connect() as conn:
        view = queries.user_by_email(conn, workspace_id, email)
        history = queries.audit_for_user(conn, workspace_id, view.user.id)
    if json_out:
        emit_json(view.as_dict() | {"history": [_event(e) for e in history]})
        return
    u = view.user
    typer.echo(f"{u.name} <{u.email}>  id {u.id}  role {u.role.value}")
    line = f"Status: {u.status.value.capitalize()}"
    if u.status_reason:
        line += f" ({u.status_reason.value})"
    if u.status_note:
        line += f" — {u.status_note}"
    typer.echo(line)
    if u.review_by:
        typer.echo(f"Review by: {u.review_by.isoformat()}")
    if u.expires_at:
        typer.echo(f"Expires: {u.expires_at:%Y-%m-%d %H:%M} UTC")
    typer.echo("History:")
    for e in history:
        typer.echo(
            f"  {e.at:%Y-%m-%d %H:%M:%S}  {e.from_status or 'new'} → {e.to_status}  "
            f"{e.route}  by {e.actor_name}  {e.outcome}"
        )


def _event(e: AuditEntry) -> dict[str, object]:
    return {
        "at": e.at.isoformat(),
        "from": e.from_status,
        "to": e.to_status,
        "route": e.route,
        "actor": e.actor_name,
        "reason_code": e.reason_code,
        "note": e.note,
        "outcome": e.outcome,
    }


@app.command("list")
def list_(
    workspace: str = WORKSPACE,
    status: Status | None = typer.Option(None, help="Only users with this status."),
    filter_: list[str] = FILTER,
    limit: int = typer.Option(100, min=1, max=10000, help="How many users at most."),
    json_out: bool = JSON,
) -> None:
    """List users in id order (the first LIMIT that the filter selects)."""
    where = parse_filter(filter_, status)
    workspace_id = _workspace_id(workspace)
    with container().engine.connect() as conn:
        views = queries.page_users(conn, workspace_id, where=where, limit=limit).users
    if json_out:
        emit_json([v.as_dict() for v in views])
        return
    echo_table(
        ("ID", "STATUS", "ROLE", "EMAIL", "NAME"),
        (
            (v.user.id, v.user.status.value, v.user.role.value, v.user.email, v.user.name)
            for v in views
        ),
    )


@app.command("import")
def import_(
    file: Path,
    workspace: str = WORKSPACE,
    report: Path | None = REPORT,
    json_out: bool = JSON,
) -> None:
    """Import a CSV (header email,name[,role,status,reason,note,expires_at]; what
    `users export` writes works as it is) through route bulk.

    The whole file is checked first: any bad row stops the import before anything is
    written (exit 2). A row that would change a Blocked user is refused (exit 1, the
    first 20 listed; --report FILE lists them all); the others apply (exit 0).
    """
    c = container()
    workspace_id = _workspace_id(workspace)
    if not file.is_file():
        fail(f"cannot read {file}: no such file.")
    with reported():
        checked = check_file(file)
    quiet = json_out or not sys.stderr.isatty()
    with (
        reported(),
        Refusals(report, "row", keep_all=json_out) as refusals,
        Progress(transient=True, disable=quiet) as bar,
    ):
        task = bar.add_task("Importing", total=checked.rows)
        done = import_file(
            c.uow,
            workspace_id=workspace_id,
            file=checked,
            actor=operator(),
            now=c.clock(),
            refused=lambda line, email, code: refusals.add(str(line), email, code),
            progress=lambda n: bar.advance(task, n),
        )
    if json_out:
        emit_json(
            {
                "batch_id": done.batch_id,
                "created": done.created,
                "applied": done.applied,
                "unchanged": done.unchanged,
                "refused": [
                    {"line": int(line), "email": email, "code": code}
                    for line, email, code in refusals.kept
                ],
            }
        )
    else:
        typer.echo(
            f"Imported {done.rows} row(s): {done.created} created, {done.applied} changed, "
            f"{done.unchanged} unchanged, {done.refused} refused."
        )
        refusals.print()
    refusals.exit()


@app.command("export")
def export(
    workspace: str = WORKSPACE,
    format_: str = typer.Option("csv", "--format", help="csv or json."),
    status: Status | None = typer.Option(None, help="Only users with this status."),
    filter_: list[str] = FILTER,
) -> None:
    """Write every user the filter selects to standard output as CSV or JSON."""
    if format_ not in ("csv", "json"):
        fail(f"{format_!r} is not a format: use csv or json.")
    where = parse_filter(filter_, status)
    workspace_id = _workspace_id(workspace)
    with container().engine.connect() as conn:
        views = queries.iter_users(conn, workspace_id, where)
        if format_ == "json":
            emit_json([v.as_dict() for v in views])
            return
        writer = csv.writer(sys.stdout)
        fields = [
            "id",
            "email",
            "name",
            "role",
            "status",
            "status_reason",
            "status_note",
            "status_changed_at",
            "last_seen_at",
            "created_at",
            "expires_at",
        ]
        writer.writerow(fields)
        for v in views:
            row = v.as_dict()
            writer.writerow([_cell(row[f]) for f in fields])


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
