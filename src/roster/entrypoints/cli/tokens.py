"""`roster tokens`: create API tokens (printed once), list and revoke them."""

from datetime import datetime
from typing import Any

import typer

from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import Route
from roster.entrypoints.cli.common import (
    container,
    echo_table,
    emit_json,
    fail,
    operator,
    reported,
)
from roster.services import queries
from roster.services.access import create_token, list_tokens, revoke_credential

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


@app.command("list")
def list_(
    workspace: str = typer.Option(..., "--workspace", "-w", help="The workspace's slug."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """List the workspace's API tokens, newest first (never their secrets)."""
    c = container()
    with reported(), c.engine.connect() as conn:
        workspace_id = queries.workspace_by_slug(conn, workspace).id
        tokens = list_tokens(conn, workspace_id)
        owners = {
            user_id: queries.user_by_id(conn, workspace_id, user_id).user.email
            for user_id in {t["user_id"] for t in tokens if t["user_id"]}
        }
    if json_out:
        emit_json([t | {"user_email": owners.get(t["user_id"])} for t in tokens])
        return
    now = c.clock()
    echo_table(
        ("ID", "KIND", "NAME", "USER", "STATE", "CREATED", "LAST USED"),
        (
            (
                t["id"],
                t["kind"],
                t["name"],
                owners.get(t["user_id"]),
                _state(t, now),
                _day(t["created_at"]),
                _day(t["last_used_at"]),
            )
            for t in tokens
        ),
    )


def _state(token: dict[str, Any], now: datetime) -> str:
    if token["revoked_at"] is not None:
        return "revoked"
    expires = token["expires_at"]
    return "expired" if expires is not None and expires <= now else "live"


def _day(at: datetime | None) -> str | None:
    return at.strftime("%Y-%m-%d %H:%M") if at else None


@app.command("revoke")
def revoke(
    token_id: str = typer.Argument(..., help="The token's id, as `roster tokens list` shows it."),
    workspace: str = typer.Option(..., "--workspace", "-w", help="The workspace's slug."),
) -> None:
    """Revoke a token: the next request that uses it fails (audited, route cli)."""
    c = container()
    with reported():
        with c.engine.connect() as conn:
            workspace_id = queries.workspace_by_slug(conn, workspace).id
        revoke_credential(
            c.uow(),
            workspace_id=workspace_id,
            credential_id=token_id,
            now=c.clock(),
            route=Route.CLI,
            actor=operator(),
        )
    typer.echo(f"Revoked token {token_id}.")
