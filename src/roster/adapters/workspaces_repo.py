"""Workspaces in SQL: the `WorkspaceRepository` port."""

from typing import Any

from sqlalchemy import Connection, insert, select, update

from roster.adapters.tables import workspaces
from roster.domain.workspaces import Workspace


class SqlWorkspaceRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _one(self, *where: Any) -> Workspace | None:
        row = self.conn.execute(select(workspaces).where(*where)).first()
        return Workspace(**row._mapping) if row else None

    def get(self, workspace_id: str) -> Workspace | None:
        return self._one(workspaces.c.id == workspace_id)

    def get_by_slug(self, slug: str) -> Workspace | None:
        return self._one(workspaces.c.slug == slug)

    def add(self, workspace: Workspace) -> None:
        self.conn.execute(insert(workspaces).values(**_fields(workspace)))

    def save_settings(self, workspace: Workspace) -> None:
        self.conn.execute(
            update(workspaces)
            .where(workspaces.c.id == workspace.id)
            .values(
                allow_api_unblock=workspace.allow_api_unblock,
                reactivate_on_sign_in=workspace.reactivate_on_sign_in,
                seat_limit=workspace.seat_limit,
                name=workspace.name,
                timezone=workspace.timezone,
                notify_users_on_status_change=workspace.notify_users_on_status_change,
                review_digest=workspace.review_digest,
                review_days=workspace.review_days,
            )
        )


def _fields(workspace: Workspace) -> dict[str, Any]:
    return {f: getattr(workspace, f) for f in workspace.__slots__}
