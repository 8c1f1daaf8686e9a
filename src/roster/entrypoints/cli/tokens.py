"""`roster tokens create`: API tokens from the server, printed once."""

import typer

from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import Route
from roster.entrypoints.cli.common import container, emit_json, fail, operator, reported
from roster.services import queries
from roster.services.access import create_token

app = typer.Typer(help="API tokens.", no_args_is_help=True)


@app.command("create")
def create(
    workspace: str = typer.Option(..., "--workspace", "-w", help="The workspace's slug."),
    kind: CredentialKind = typer.Option(..., help="personal, service or scim."),
    user: str | None = typer.Option(None, help="For personal tokens: the admin's email."),
    name: str | None = typer.Option(None, help="For service and scim tokens: a name."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Create a token and print it once; Roster keeps only its hash."""
    if kind == CredentialKind.PERSONAL and not user:
        fail("a personal token needs --user EMAIL (an owner or admin).")
    c = container()
    with reported():
        with c.engine.connect() as conn:
            workspace_id = queries.workspace_by_slug(conn, workspace).id
            user_id = queries.user_by_email(conn, workspace_id, user).user.id if user else None
        credential_id, token = create_token(
            c.uow(),
            workspace_id=workspace_id,
            kind=kind,
            name=name,
            user_id=user_id,
            now=c.clock(),
            route=Route.CLI,
            actor=operator(),
        )
    if json_out:
        emit_json({"id": credential_id, "kind": kind.value, "token": token})
    else:
        typer.echo(token)
        typer.echo(
            f"Created {kind.value} token {credential_id}. Copy it now: it is not shown again.",
            err=True,
        )
