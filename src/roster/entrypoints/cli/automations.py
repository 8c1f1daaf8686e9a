"""`roster automations`: list rules, and run the due ones (for cron) or dry-run them."""

import typer

from roster.domain.rules.runs import Run
from roster.entrypoints.cli.common import container, emit_json, fail, reported
from roster.services import automations as auto
from roster.services import queries, webhooks
from roster.services.jobs import this_process

app = typer.Typer(help="Automation rules.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print the result as JSON.")


def _workspace_id(slug: str) -> str:
    with reported(), container().engine.connect() as conn:
        return queries.workspace_by_slug(conn, slug).id


@app.command("list")
def list_rules(
    workspace: str = typer.Option(..., "--workspace", "-w", help="The workspace's slug."),
    json_out: bool = JSON,
) -> None:
    """Every rule of a workspace, in plain words."""
    workspace_id = _workspace_id(workspace)
    rules = auto.list_rules(container().uow(), workspace_id)
    if json_out:
        emit_json(
            [
                {"id": r.id, "summary": r.summary, "next_run_at": r.next_run_at}
                | r.definition.as_json()
                for r in rules
            ]
        )
        return
    if not rules:
        typer.echo("No automations.")
    for r in rules:
        state = "on " if r.enabled else "off"
        typer.echo(f"{r.id}  [{state}]  {r.definition.name}: {r.summary}")


@app.command("run")
def run(
    workspace: str | None = typer.Option(
        None, "--workspace", "-w", help="With --dry-run: the workspace to preview."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what every enabled schedule rule would do; change nothing."
    ),
    json_out: bool = JSON,
) -> None:
    """Run what is due now: schedule rules whose time has come (each once, however many
    servers or crons call this), waiting events, and webhooks. For cron, every minute."""
    c = container()
    with reported():
        if dry_run:
            if workspace is None:
                fail("--dry-run needs --workspace SLUG: the workspace to preview.")
            runs = auto.dry_run_all(
                c.uow(), workspace_id=_workspace_id(workspace), clock=c.clock, tuning=c.jobs
            )
        else:
            runs = auto.run_due(c.uow(), c.clock, holder=f"cli:{this_process()}", tuning=c.jobs)
            runs += auto.dispatch(c.uow(), c.clock)
            webhooks.deliver_configured(c.uow(), c.clock, c.settings)
    if workspace and not dry_run:
        wanted = _workspace_id(workspace)
        runs = [r for r in runs if r.workspace_id == wanted]
    _report(runs, json_out)


def _report(runs: list[Run], json_out: bool) -> None:
    if json_out:
        emit_json([_as_dict(r) for r in runs])
        return
    if not runs:
        typer.echo("Nothing was due.")
    for r in runs:
        would = "would be " if r.dry_run else ""
        typer.echo(
            f"{r.rule_id} {r.state}: {r.matched} matched, {r.applied} {would}applied, "
            f"{r.unchanged} unchanged, {r.refused} refused; active users {r.active_delta:+d}"
            + (f" ({r.reason})" if r.reason else "")
        )


def _as_dict(r: Run) -> dict[str, object]:
    return {f: getattr(r, f) for f in ("id", "rule_id", "workspace_id", "state", "dry_run")} | {
        "counts": {
            "matched": r.matched,
            "applied": r.applied,
            "unchanged": r.unchanged,
            "refused": r.refused,
        },
        "active_delta": r.active_delta,
        "reason": r.reason,
    }
