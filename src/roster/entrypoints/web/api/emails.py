"""The emails Roster sends, as admins see them: recipient, subject, state, body."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from roster.entrypoints.web.api.pages import Cursor, Page, cursor_id, page_of, page_size
from roster.entrypoints.web.deps import AdminDep, ContainerDep
from roster.entrypoints.web.problems import responses
from roster.services.mail import Email, list_emails

router = APIRouter(prefix="/emails", tags=["emails"])


class EmailOut(BaseModel):
    id: str
    kind: str = Field(
        description="`invitation`, `password_reset`, `status_notice`, `review_digest` or "
        "`webhook_disabled`."
    )
    to: str
    subject: str
    status: Literal["queued", "sent", "failed"] = Field(
        description="queued (waiting, or kept when no SMTP server is configured), sent, "
        "or failed (the server refused it for good; `last_error` holds its reply)."
    )
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    text_body: str

    @classmethod
    def of(cls, e: Email) -> "EmailOut":
        fields = {f: getattr(e, f) for f in e.__slots__ if f != "to_address"}
        return cls(**fields, to=e.to_address)


@router.get("", response_model=Page[EmailOut], responses=responses(401, 403, 422))
def list_(
    admin: AdminDep,
    container: ContainerDep,
    status: Annotated[Literal["queued", "sent", "failed"] | None, Query()] = None,
    cursor: Cursor = None,
    limit: Annotated[int, page_size(200)] = 50,
) -> Page[EmailOut]:
    """The workspace's emails, newest first."""
    before = cursor_id(cursor)
    with container.engine.connect() as conn:
        found = list_emails(conn, admin.workspace_id, status=status, before=before, limit=limit + 1)
    return page_of(Page[EmailOut], found, limit, EmailOut.of, lambda e: (e.id,))
