"""`roster`: set up, serve and administer Roster from the server's command line."""

from pathlib import Path

import typer

from roster import __version__
from roster.entrypoints.cli import (
    audit,
    automations,
    billing,
    bulk,
    invitations,
    serve,
    tokens,
    users,
    workspaces,
)
from roster.entrypoints.cli.common import container, reported

app = typer.Typer(
    help="Roster: user lifecycle with Active, Inactive and Blocked users.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(db, name="db")
app.add_typer(workspaces.app, name="workspaces")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.add_typer(invitations.app, name="invitations")
app.add_typer(audit.app, name="audit")
app.add_typer(bulk.app, name="bulk")
app.add_typer(automations.app, name="automations")
app.add_typer(billing.app, name="billing")


def show_version(asked: bool) -> None:
    if asked:
        typer.echo(f"roster {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=show_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Roster: user lifecycle with Active, Inactive and Blocked users."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every schema migration not yet applied."""
    from roster.services.schema import upgrade_schema

    upgrade_schema(container().engine)
    typer.echo("Database schema is up to date.")


@app.command()
def init(demo: bool = typer.Option(False, "--demo", help="Seed the demo workspace.")) -> None:
    """Create or upgrade the schema; with --demo, seed workspace "demo" once."""
    from roster.services.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_SLUG, seed_demo
    from roster.services.schema import upgrade_schema

    c = container()
    upgrade_schema(c.engine)
    typer.echo(f"Database ready at {c.engine.url.render_as_string(hide_password=True)}")
    if demo:
        with reported():
            created = seed_demo(c.uow, now=c.clock(), tuning=c.jobs)
        typer.echo("Seeded" if created else "Found", nl=False)
        admin_url = f"{c.settings.public_url.rstrip('/')}/admin"
        typer.echo(f' workspace "{DEMO_SLUG}". Sign in at {admin_url} with')
        typer.echo(
            f"  workspace: {DEMO_SLUG}\n  email:     {DEMO_EMAIL}\n  password:  {DEMO_PASSWORD}"
        )
        listens = f"http://{c.settings.host}:{c.settings.port}"
        if not c.settings.public_url.startswith(listens):  # behind a proxy: say both
            typer.echo(f"`roster serve` listens on {listens}.")


app.command()(serve.serve)
app.command()(serve.worker)


@app.command()
def backup(path: Path = typer.Argument(..., help="The new file to write.")) -> None:
    """Copy the database to PATH (SQLite), or print the pg_dump command (PostgreSQL)."""
    from roster.services.backup import back_up

    with reported():
        made = back_up(container().engine, path)
    if made.command:
        typer.echo(
            "On PostgreSQL, back up with pg_dump (PGPASSWORD or ~/.pgpass for the password):"
        )
        typer.echo(made.command)
        return
    typer.echo(f"Backed up to {made.path} ({made.pages} pages). See docs/operations.md to restore.")
