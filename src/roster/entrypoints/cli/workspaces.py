"""`roster workspaces`: create and list."""

import typer

from roster.domain.vocabulary import Route
from roster.entrypoints.cli.common import container, echo_table, emit_json, operator, reported
from roster.services import queries
from roster.services.users import NewUser
from roster.services.workspaces import create_workspace, update_settings

app = typer.Typer(help="Workspaces.", no_args_is_help=True)


@app.command("create")
def create(
    slug: str,
    owner_email: str = typer.Option(..., help="The first owner's email."),
    owner_password: str | None = typer.Option(None, help="The owner's password."),
    name: str | None = typer.Option(None, help="Display name (default: the slug)."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Create a workspace with its first owner (Active)."""
    c = container()
    with reported():
        workspace, owner = create_workspace(
            c.uow(),
            slug=slug,
            name=name,
            route=Route.CLI,
            actor=operator(),
            now=c.clock(),
            owner=NewUser(email=owner_email, name=owner_email.split("@", maxsplit=1)[0]),
            owner_password=owner_password,
        )
    if json_out:
        emit_json({"id": workspace.id, "slug": workspace.slug, "owner_id": owner.id})
    else:
        typer.echo(f"Created workspace {workspace.slug} ({workspace.id}) owned by {owner.email}.")


@app.command("list")
def list_(json_out: bool = typer.Option(False, "--json", help="Print the result as JSON.")) -> None:
    """List every workspace with its user counts."""
    with container().engine.connect() as conn:
        found = queries.list_workspaces(conn)
    if json_out:
        emit_json(
            [
                {
                    "id": w.id,
                    "slug": w.slug,
                    "name": w.name,
                    "active": n.active,
                    "inactive": n.inactive,
                    "blocked": n.blocked,
                }
                for w, n in found
            ]
        )
        return
    echo_table(
        ("SLUG", "NAME", "ACTIVE", "INACTIVE", "BLOCKED", "ID"),
        ((w.slug, w.name, n.active, n.inactive, n.blocked, w.id) for w, n in found),
    )


@app.command("set")
def set_(
    slug: str,
    timezone: str = typer.Option(
        ..., "--timezone", help="An IANA time zone (Europe/Paris, UTC): billing days follow it."
    ),
) -> None:
    """Change a workspace's settings (audited as an admin action)."""
    c = container()
    with reported():
        with c.engine.connect() as conn:
            workspace_id = queries.workspace_by_slug(conn, slug).id
        workspace = update_settings(
            c.uow(),
            workspace_id=workspace_id,
            timezone=timezone,
            route=Route.CLI,
            actor=operator(),
            now=c.clock(),
        )
    typer.echo(f"Workspace {workspace.slug}: time zone {workspace.timezone}.")
