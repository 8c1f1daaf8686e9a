"""The admin dashboard under /admin: server-rendered pages, no JavaScript needed.

`install(app)` is the one line app.py calls. A feature adds a page by writing a
module with a `router` here and listing it in PAGES (see docs/dashboard.md).
"""

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from roster.entrypoints.web.admin import audit as audit
from roster.entrypoints.web.admin import auth as auth
from roster.entrypoints.web.admin import automations as automations
from roster.entrypoints.web.admin import billing as billing
from roster.entrypoints.web.admin import bulk as bulk
from roster.entrypoints.web.admin import emails as emails
from roster.entrypoints.web.admin import expiry as expiry
from roster.entrypoints.web.admin import invitations as invitations
from roster.entrypoints.web.admin import password_reset as password_reset
from roster.entrypoints.web.admin import reviews as reviews
from roster.entrypoints.web.admin import settings as settings
from roster.entrypoints.web.admin import tokens as tokens
from roster.entrypoints.web.admin import user_admin as user_admin
from roster.entrypoints.web.admin import users as users
from roster.entrypoints.web.admin import webhooks as webhooks
from roster.entrypoints.web.admin.rendering import HERE, render
from roster.entrypoints.web.admin.security import SecurityHeaders
from roster.entrypoints.web.admin.session import CsrfRefused, NotAdmin, SignInRequired
from roster.entrypoints.web.admin.views import PageNotFound

PAGES = (
    auth,
    user_admin,  # before users: its /users/new must win over /users/{user_id}
    users,
    audit,
    settings,
    tokens,
    bulk,
    automations,
    billing,
    emails,
    invitations,
    password_reset,
    reviews,
    expiry,
    webhooks,
)
"""Dashboard modules, each with a `router`; a feature appends its own."""


def build_routers() -> list[APIRouter]:
    """The home redirect, then each page's router, each included under /admin."""
    home_router = APIRouter()

    @home_router.get("", response_class=RedirectResponse)
    def home() -> RedirectResponse:
        return RedirectResponse("/admin/users", status_code=303)

    return [home_router, *(page.router for page in PAGES)]


def _sign_in_required(request: Request, _: Exception) -> Response:
    if request.method == "GET":
        return RedirectResponse(f"/admin/sign-in?next={request.url.path}", status_code=303)
    return RedirectResponse("/admin/sign-in", status_code=303)


def _csrf_refused(request: Request, _: Exception) -> HTMLResponse:
    return render(request, "refused.html", status_code=403, title="Request refused")


def _not_admin(request: Request, _: Exception) -> HTMLResponse:
    return render(request, "not_admin.html", status_code=403, title="Dashboard is for admins")


def _not_found(request: Request, exc: Exception) -> HTMLResponse:
    return render(request, "not_found.html", status_code=404, title="Not found", detail=str(exc))


def install(app: FastAPI) -> None:
    """Mount the dashboard on `app`: pages, stylesheet, error pages, security headers."""
    app.mount("/admin/static", StaticFiles(directory=HERE / "static"), name="admin-static")
    for router in build_routers():
        app.include_router(router, prefix="/admin", include_in_schema=False)
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(CsrfRefused, _csrf_refused)
    app.add_exception_handler(NotAdmin, _not_admin)
    app.add_exception_handler(PageNotFound, _not_found)
    app.add_middleware(SecurityHeaders)
