"""`roster audit verify`: prove the audit log has not been altered."""

import typer

from roster.entrypoints.cli.common import REFUSED, container, emit_json, reported
from roster.services import queries
from roster.services.audit_chain import verify_chain

app = typer.Typer(help="The audit log.", no_args_is_help=True)


@app.command("verify")
def verify(
    workspace: str = typer.Option(..., "--workspace", "-w", help="The workspace's slug."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Recompute the workspace's hash chain; exit 1 naming the first broken event."""
    c = container()
    with reported(), c.engine.connect() as conn:
        workspace_id = queries.workspace_by_slug(conn, workspace).id
        report = verify_chain(conn, workspace_id)
    if json_out:
        emit_json(
            {
                "ok": report.ok,
                "checked": report.checked,
                "broken_seq": report.broken_seq,
                "broken_id": report.broken_id,
                "reason": report.reason,
            }
        )
    elif report.ok:
        typer.echo(f"The audit log of {workspace} is intact: {report.checked} events verified.")
    else:
        typer.echo(
            f"The audit log of {workspace} is broken at event {report.broken_seq}"
            f"{f' ({report.broken_id})' if report.broken_id else ''}: {report.reason}.",
            err=True,
        )
    if not report.ok:
        raise typer.Exit(REFUSED)
