"""Rendering dashboard pages: templates, the layout's context, flash messages, PRG.

Every page renders through `render(request, template, **ctx)`; every successful
POST answers `redirect(request, url, flash=...)` (Post/Redirect/Get). The flash
message rides in a short-lived HttpOnly cookie and shows once, on the next page.
A refused POST answers `redirect_refused` (carried.py): its messages and values
show once on the form's GET page, which `render` fills in from them.
"""

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from roster import __version__
from roster.domain.vocabulary import outcome_words, refusal_words, route_words
from roster.entrypoints.web.admin.carried import FORM_COOKIE, carried_form
from roster.entrypoints.web.admin.session import CSRF_FIELD

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
FLASH_COOKIE = "roster_flash"

# The layout's navigation: (label, path). Features add their pages' links here.
NAV: list[tuple[str, str]] = [
    ("Users", "/admin/users"),
    ("Blocked accounts", "/admin/blocked-users"),
    ("Bulk actions", "/admin/bulk-actions"),
    ("Automations", "/admin/automations"),
    ("Billing", "/admin/billing"),
    ("Audit log", "/admin/audit"),
    ("Settings", "/admin/settings"),
    ("API tokens", "/admin/tokens"),
    ("Webhooks", "/admin/webhooks"),
    ("Invitations", "/admin/invitations"),
    ("Emails", "/admin/emails"),
]


def when(value: datetime | None) -> str:
    """A moment as admins read it: UTC, to the minute."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def label(value: object) -> str:
    """`payment_dispute` → `Payment dispute` (enum values as plain words)."""
    text = str(getattr(value, "value", value) or "")
    return text.replace("_", " ").capitalize()


def sentence(text: str) -> str:
    """The first letter up, the rest as written ("by SCIM" → "By SCIM")."""
    return text[:1].upper() + text[1:]


templates.env.filters["when"] = when
templates.env.filters["sentence"] = sentence
templates.env.filters["label"] = label
# Routes and refusal codes in words people use (domain/vocabulary.py holds the words).
templates.env.filters["route_words"] = route_words
templates.env.filters["refusal_words"] = refusal_words
templates.env.filters["outcome_words"] = outcome_words
templates.env.globals["version"] = __version__  # in the footer, for support requests


def render(request: Request, template: str, *, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    """A page in the layout: adds the signed-in admin, CSRF token, nav and flash."""
    admin = getattr(request.state, "admin", None)
    flash = flash_of(request)
    carried = carried_form(request)
    if carried:  # a refused form redirected here: its messages and values, once
        ctx["errors"] = {**(ctx.get("errors") or {}), **carried[0]}
        ctx["values"] = {**(ctx.get("values") or {}), **carried[1]}
    context = {
        "admin": admin,
        "csrf_field": CSRF_FIELD,
        "csrf_token": admin.csrf_token if admin else ctx.pop("csrf_token", ""),
        "nav": NAV,
        "current": request.url.path,
        "flash": flash,
        **ctx,
    }
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/admin")
    if FORM_COOKIE in request.cookies and request.method == "GET":
        response.delete_cookie(FORM_COOKIE, path="/admin")
    return response


def flash_of(request: Request) -> str | None:
    """The one-time message a redirect left, if any (shown once: `render` drops it)."""
    return unquote(request.cookies.get(FLASH_COOKIE, ""))[:500] or None


def redirect(request: Request, url: str, *, flash: str | None = None) -> RedirectResponse:
    """303 See Other to `url` (GET), carrying a one-time message."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        response.set_cookie(
            FLASH_COOKIE,
            quote(flash[:500]),
            max_age=120,
            path="/admin",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response
