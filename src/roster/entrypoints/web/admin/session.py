"""The dashboard's session cookie, the signed-in admin, and CSRF protection.

The cookie holds a credential of kind `session` (services.access.sign_in). Every
request re-checks it through services.access.authenticate, one query, so a status
change or a sign-out takes effect on the very next request.

CSRF: each form carries a token derived by HMAC from the session token (or, on the
sign-in page, from a random pre-session cookie). The token cannot be computed
without the cookie, which another site can neither read nor set. `AdminDep`
checks it on every unsafe request, so no dashboard POST can forget to.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from roster.domain import errors
from roster.domain.credentials import CredentialKind, Principal
from roster.domain.users import User
from roster.entrypoints.web.deps import ContainerDep
from roster.services.access import SESSION_TTL, authenticate

SESSION_COOKIE = "roster_session"
PRESESSION_COOKIE = "roster_presession"  # keys the sign-in form's CSRF token
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignInRequired(Exception):
    """No live dashboard session: the page answers with a redirect to sign-in."""


class CsrfRefused(Exception):
    """An unsafe request without the form's CSRF token: 403, nothing changed."""


class NotAdmin(Exception):
    """A live session of someone who may not use the dashboard (a member)."""


@dataclass(frozen=True, slots=True)
class AdminSession:
    """The signed-in owner or admin, as they are at this request."""

    principal: Principal
    user: User
    csrf_token: str

    @property
    def workspace_id(self) -> str:
        return self.principal.workspace_id


def csrf_token_for(secret: str) -> str:
    """The CSRF token of a session (or pre-session) secret."""
    return hmac.new(secret.encode(), b"roster-dashboard-csrf", hashlib.sha256).hexdigest()


def csrf_matches(secret: str | None, sent: object) -> bool:
    if not secret or not isinstance(sent, str):
        return False
    return hmac.compare_digest(csrf_token_for(secret), sent)


async def check_csrf(request: Request, secret: str | None) -> None:
    """Refuse an unsafe request whose form does not carry the token of `secret`."""
    if request.method in SAFE_METHODS:
        return
    form = await request.form()
    if not csrf_matches(secret, form.get(CSRF_FIELD)):
        raise CsrfRefused()


def signed_in(conn: Connection, token: str | None, now: datetime) -> AdminSession:
    """The owner or admin whose session cookie is `token`, re-checked now on `conn`
    (one query); SignInRequired or NotAdmin otherwise. No CSRF check here."""
    try:
        principal = authenticate(conn, token, now)
    except errors.Unauthenticated:
        raise SignInRequired() from None
    if principal.kind != CredentialKind.SESSION or principal.user is None:
        raise SignInRequired()
    if not principal.is_admin:
        raise NotAdmin()
    assert token is not None  # authenticate refuses a missing token
    return AdminSession(principal, principal.user, csrf_token_for(token))


async def admin_session(request: Request, container: ContainerDep) -> AdminSession:
    """The signed-in admin, re-checked now; CSRF-checked on every unsafe request."""
    token = request.cookies.get(SESSION_COOKIE)

    def check() -> AdminSession:
        with container.engine.connect() as conn:
            return signed_in(conn, token, container.clock())

    # in a worker thread: a database round trip must not block the event loop
    session = await run_in_threadpool(check)
    await check_csrf(request, token)
    request.state.admin = session
    request.state.workspace_id = session.workspace_id  # for the request's log line
    return session


AdminDep = Annotated[AdminSession, Depends(admin_session)]


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_TTL.total_seconds()),
        path="/admin",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/admin", httponly=True, samesite="lax")


def presession_secret(request: Request) -> tuple[str, bool]:
    """The sign-in form's CSRF secret: (value, whether it must be set as a new cookie)."""
    existing = request.cookies.get(PRESESSION_COOKIE)
    if existing and len(existing) >= 32:
        return existing, False
    return secrets.token_urlsafe(32), True


def set_presession_cookie(request: Request, response: Response, secret: str) -> None:
    response.set_cookie(
        PRESESSION_COOKIE,
        secret,
        path="/admin",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
