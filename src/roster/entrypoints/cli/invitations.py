"""`roster invitations create`: invite an email from the server's command line."""

import typer

from roster.domain.vocabulary import Role
from roster.entrypoints.cli.common import container, emit_json, operator, reported
from roster.services import queries
from roster.services.invitations import accept_link, create_invitation

app = typer.Typer(help="Invitations to join a workspace.", no_args_is_help=True)


@app.command("create")
def create(
    email: str = typer.Argument(..., help="The invitee's email."),
    workspace: str = typer.Option(..., "--workspace", "-w", help="The workspace's slug."),
    role: Role = typer.Option(Role.MEMBER, help="owner, admin or member."),
    name: str | None = typer.Option(None, help="The invitee's name."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Invite EMAIL and print the accept link's token once. A Blocked user's email is
    refused (user_blocked, audited); a full workspace is seat_limit_reached."""
    c = container()
    with reported():
        with c.engine.connect() as conn:
            workspace_id = queries.workspace_by_slug(conn, workspace).id
        made = create_invitation(
            c.uow(),
            workspace_id=workspace_id,
            email=email,
            role=role,
            name=name,
            actor=operator(),
            now=c.clock(),
            public_url=c.settings.public_url,
        )
    invitation = made.invitation
    if json_out:
        emit_json(
            {
                "id": invitation.id,
                "email": invitation.email,
                "role": invitation.role.value,
                "expires_at": invitation.expires_at.isoformat(),
                "token": made.token,
                "accept_url": accept_link(c.settings.public_url, made.token),
            }
        )
        return
    typer.echo(accept_link(c.settings.public_url, made.token))
    typer.echo(
        f"Invited {invitation.email} as {invitation.role.value} until "
        f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC. The link above is emailed to "
        "them (see docs/email.md); it is not shown again.",
        err=True,
    )
