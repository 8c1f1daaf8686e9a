"""API tokens: created by admins, shown once, listed without secrets, revocable."""

from typing import Annotated, Any

from fastapi import APIRouter, Response

from roster.entrypoints.web.api.pages import Cursor, Page, cursor_id, page_of, page_size
from roster.entrypoints.web.api.schemas import TokenBody, TokenCreated, TokenOut
from roster.entrypoints.web.deps import AdminDep, ContainerDep, RequestIdDep
from roster.entrypoints.web.problems import responses
from roster.services.access import create_token, list_tokens, revoke_credential

router = APIRouter(prefix="/tokens", tags=["tokens"])


@router.post("", status_code=201, response_model=TokenCreated, responses=responses(401, 403, 422))
def create(
    body: TokenBody, admin: AdminDep, container: ContainerDep, request_id: RequestIdDep
) -> TokenCreated:
    """Create a token. A personal token acts as you (route admin_api); service tokens
    act as an integration (route automation) and scim tokens as an identity provider.
    Every token stops working when the admin who created it leaves Active."""
    assert admin.user is not None
    credential_id, token = create_token(
        container.uow(),
        workspace_id=admin.workspace_id,
        kind=body.kind,
        name=body.name,
        user_id=admin.user.id,
        now=container.clock(),
        expires_at=body.expires_at,
        route=admin.route,
        actor=admin.actor,
        request_id=request_id,
    )
    return TokenCreated(id=credential_id, kind=body.kind, name=body.name, token=token)


@router.get("", response_model=Page[TokenOut], responses=responses(401, 403, 422))
def list_(
    admin: AdminDep,
    container: ContainerDep,
    cursor: Cursor = None,
    limit: Annotated[int, page_size(200)] = 50,
) -> Page[TokenOut]:
    """The workspace's API tokens, newest first (never their secrets)."""
    before = cursor_id(cursor)
    with container.engine.connect() as conn:
        found = list_tokens(conn, admin.workspace_id, before=before, limit=limit + 1)
    return page_of(Page[TokenOut], found, limit, _token, lambda t: (t["id"],))


def _token(row: dict[str, Any]) -> TokenOut:
    return TokenOut(**row)


@router.delete("/{token_id}", status_code=204, responses=responses(401, 403, 404))
def revoke(
    token_id: str, admin: AdminDep, container: ContainerDep, request_id: RequestIdDep
) -> Response:
    """Revoke a token: the next request that uses it fails."""
    revoke_credential(
        container.uow(),
        workspace_id=admin.workspace_id,
        credential_id=token_id,
        now=container.clock(),
        route=admin.route,
        actor=admin.actor,
        request_id=request_id,
    )
    return Response(status_code=204)
