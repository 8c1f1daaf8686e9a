"""SCIM's error shape (RFC 7644 §3.12) for every failure under /scim/v2, in one place.

The router's routes use `ScimRoute`, which turns whatever a handler or dependency
raises into an Error message, so the app-wide RFC 9457 handlers never see them.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError
from scim2_models import Error, SCIMException
from starlette.exceptions import HTTPException

from roster.domain import errors

MEDIA_TYPE = "application/scim+json"


class ScimResponse(JSONResponse):
    media_type = MEDIA_TYPE


def error_response(status: int, detail: str, scim_type: str | None = None) -> ScimResponse:
    body = Error(status=status, detail=detail, scim_type=scim_type or None).model_dump()
    headers = {"WWW-Authenticate": 'Bearer realm="scim"'} if status == 401 else None
    return ScimResponse(body, status_code=status, headers=headers)


def _from_domain(exc: errors.DomainError) -> ScimResponse:
    if isinstance(exc, errors.UserBlocked):
        # PRODUCT §9: a provider asking to reactivate a Blocked user gets 400
        # mutability naming the block (the refusal is already in the audit log).
        return error_response(400, exc.detail, "mutability")
    if isinstance(exc, errors.InvalidInput):
        return error_response(400, exc.detail, "invalidValue")
    if exc.code == "uniqueness":
        return error_response(409, exc.detail, "uniqueness")
    if isinstance(exc, errors.ReasonRequired):
        return error_response(400, exc.detail, "invalidValue")
    return error_response(exc.http_status, exc.detail)


def to_response(exc: Exception) -> ScimResponse:
    """The SCIM Error for anything a SCIM route raised."""
    if isinstance(exc, errors.DomainError):
        return _from_domain(exc)
    if isinstance(exc, SCIMException):
        error = exc.to_error()
        return error_response(error.status or 400, error.detail or str(exc), error.scim_type)
    if isinstance(exc, ValidationError):
        error = Error.from_validation_errors(exc)[0]
        return error_response(error.status or 400, error.detail or "invalid", error.scim_type)
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error_response(400, f"{where}: {first.get('msg')}", "invalidValue")
    if isinstance(exc, HTTPException):
        return error_response(exc.status_code, str(exc.detail))
    raise exc


class ScimRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return to_response(exc)

        return guarded
