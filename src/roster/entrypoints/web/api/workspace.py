"""The caller's workspace and its settings (owners and admins only)."""

from fastapi import APIRouter

from roster.entrypoints.web.api.schemas import WorkspaceOut, WorkspacePatchBody
from roster.entrypoints.web.api.users import JsonBody
from roster.entrypoints.web.deps import AdminDep, ContainerDep, RequestIdDep
from roster.entrypoints.web.problems import responses
from roster.services import queries
from roster.services.workspaces import update_settings

router = APIRouter(prefix="/workspace", tags=["workspace"])


def _out(container: ContainerDep, workspace_id: str) -> WorkspaceOut:
    with container.engine.connect() as conn:
        workspace = queries.workspace_by_id(conn, workspace_id)
        counts = queries.user_counts_of(conn, workspace_id)
    return WorkspaceOut.of(workspace, counts)


@router.get("", response_model=WorkspaceOut, responses=responses(401, 403))
def read(admin: AdminDep, container: ContainerDep) -> WorkspaceOut:
    """The workspace's settings and its exact user counts by status."""
    return _out(container, admin.workspace_id)


@router.patch("", response_model=WorkspaceOut, responses=responses(401, 403, 413, 422))
def patch(
    admin: AdminDep,
    _json: JsonBody,
    body: WorkspacePatchBody,
    container: ContainerDep,
    request_id: RequestIdDep,
) -> WorkspaceOut:
    """Change the settings sent; others stay. `seat_limit: null` removes the limit.
    `allow_api_unblock` lets personal tokens lift blocks (off by default);
    `review_days` sets, per reason code, the days from a block to its review;
    `timezone` (an IANA name, e.g. Europe/Paris) is where the workspace's days start,
    billing days included. An unknown zone is a 422 naming the field."""
    update_settings(
        container.uow(),
        workspace_id=admin.workspace_id,
        allow_api_unblock=body.allow_api_unblock,
        reactivate_on_sign_in=body.reactivate_on_sign_in,
        seat_limit=body.seat_limit if "seat_limit" in body.model_fields_set else ...,
        notify_users_on_status_change=body.notify_users_on_status_change,
        review_digest=body.review_digest,
        review_days={r.value: n for r, n in body.review_days.items()} if body.review_days else None,
        timezone=body.timezone,
        route=admin.route,
        actor=admin.actor,
        now=container.clock(),
        request_id=request_id,
    )
    return _out(container, admin.workspace_id)
