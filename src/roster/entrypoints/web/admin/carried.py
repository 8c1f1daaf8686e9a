"""A refused form, carried across Post/Redirect/Get.

A dashboard form that fails validation does not answer its POST with a page (a
refresh would send it again): it redirects to the form's GET page, and the messages
and the values typed ride in a short-lived cookie, signed with the admin's session
so no one else can write it, and read once by the page at that path.
Never carry a password: callers pass only the fields a page may show again.
"""

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse

from roster.entrypoints.web.admin.session import SESSION_COOKIE

FORM_COOKIE = "roster_form"
MAX_VALUE = 1000  # characters kept of one typed value
MAX_COOKIE = 3800  # a browser keeps about 4 KB per cookie


def _sign(request: Request, payload: bytes) -> str:
    key = (request.cookies.get(SESSION_COOKIE) or "").encode()
    return hmac.new(key, b"roster-form|" + payload, hashlib.sha256).hexdigest()


def redirect_refused(
    request: Request, url: str, *, errors: dict[str, str], values: dict[str, str] | None = None
) -> RedirectResponse:
    """303 to the form's GET page `url`, carrying `errors` (field → message) and the
    `values` typed, shown once there. Long values are cut; if they still do not fit
    a cookie, the messages go alone."""
    kept = {k: v[:MAX_VALUE] for k, v in (values or {}).items()}
    path = urlsplit(url).path
    payload = json.dumps({"path": path, "errors": errors, "values": kept}).encode()
    if len(payload) * 4 // 3 > MAX_COOKIE - 100:
        payload = json.dumps({"path": path, "errors": errors, "values": {}}).encode()
    value = base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + _sign(request, payload)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        FORM_COOKIE,
        value,
        max_age=120,
        path="/admin",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def carried_form(request: Request) -> tuple[dict[str, str], dict[str, str]] | None:
    """The (errors, values) a refused form left for this GET page, if any and genuine."""
    raw = request.cookies.get(FORM_COOKIE)
    if request.method != "GET" or not raw or "." not in raw:
        return None
    encoded, signature = raw.rsplit(".", 1)
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except ValueError:
        return None
    if not hmac.compare_digest(_sign(request, payload), signature):
        return None
    try:
        data: Any = json.loads(payload)
        if data["path"] != request.url.path:
            return None
        return _texts(data["errors"]), _texts(data["values"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _texts(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()}
