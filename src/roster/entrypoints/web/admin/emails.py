"""The Emails page: every message Roster sent or keeps, with its state and body.
With no SMTP server configured (the default), this is where mail can be read."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from roster.entrypoints.web.admin.rendering import render
from roster.entrypoints.web.admin.session import AdminDep
from roster.entrypoints.web.admin.views import reading
from roster.entrypoints.web.deps import ContainerDep
from roster.services.mail import list_emails

router = APIRouter()
PAGE = 50
STATES = ("queued", "sent", "failed")


@router.get("/emails", response_class=HTMLResponse)
def emails_page(
    request: Request,
    admin: AdminDep,
    container: ContainerDep,
    status: Annotated[str, Query(max_length=10)] = "",
    before: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    chosen = status if status in STATES else None
    with reading(container) as conn:
        found = list_emails(
            conn, admin.workspace_id, status=chosen, before=before or None, limit=PAGE + 1
        )
    return render(
        request,
        "emails/list.html",
        title="Emails",
        emails=found[:PAGE],
        more=found[PAGE - 1].id if len(found) > PAGE else None,
        status=chosen or "",
        states=STATES,
        smtp=container.settings.smtp_url is not None,
    )
