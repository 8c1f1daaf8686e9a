"""RFC 9457 problem details: every API failure answers in this one shape, with a
stable `code` from PRODUCT §10."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from roster.domain import errors

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://roster.dev/problems/"

_HTTP_CODES = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "version_conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
}


class Problem(BaseModel):
    """RFC 9457 problem details, with Roster's stable `code`."""

    type: str = Field(examples=[TYPE_BASE + "user_blocked"])
    title: str
    status: int
    detail: str
    code: str = Field(examples=["user_blocked"])
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    request: Request | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if request is not None:
        body["instance"] = request.url.path
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def from_domain(request: Request, exc: errors.DomainError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
    return problem(exc.http_status, exc.code, exc.title, exc.detail, request, headers)


def _from_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    details = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type")}
        for e in exc.errors()
    ]
    first = details[0] if details else {"loc": [], "msg": "invalid input"}
    where = ".".join(str(p) for p in first["loc"] if p != "body") or "request"
    detail = f"{where}: {first['msg']}"
    if any(e.get("type") == "json_invalid" for e in details):
        detail = "The request body is not valid JSON."
    return problem(422, "validation_error", "Invalid input", detail, request, errors=details)


def _from_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 400:  # FastAPI could not read the body (bad encoding, broken form)
        return problem(422, "validation_error", "Invalid input", str(exc.detail) + ".", request)
    code = _HTTP_CODES.get(exc.status_code, "error")
    title = code.replace("_", " ").capitalize()
    return problem(
        exc.status_code,
        code,
        title,
        str(exc.detail),
        request,
        headers=getattr(exc, "headers", None),
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.DomainError, from_domain)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _from_validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _from_http)  # type: ignore[arg-type]
    _document(app)


def _document(app: FastAPI) -> None:
    """Make /openapi.json say what the API answers: under /api/v1 every 4xx is a
    problem (application/problem+json), including FastAPI's own 422, and every
    operation lists 401 when it takes a credential, 413 when it takes a body, and 422."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = build()
        for path, item in spec.get("paths", {}).items():
            if path.startswith("/api/"):
                for op in item.values():
                    _problem_responses(op)
        schemas = spec.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def _problem_responses(op: dict[str, Any]) -> None:
    answers = op.setdefault("responses", {})
    # Any operation answers 422 to a query parameter it does not take (known_params.py).
    needed = (["401"] if op.get("security") else []) + (["413"] if "requestBody" in op else [])
    needed.append("422")
    for code in needed:
        answers.setdefault(code, {"description": _HTTP_CODES[int(code)].replace("_", " ")})
    for code, answer in answers.items():
        if code.startswith("4"):
            answer["content"] = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the problem statuses an operation can answer."""
    return {
        c: {
            "model": Problem,
            "content": {MEDIA_TYPE: {}},
            "description": _HTTP_CODES.get(c, "error").replace("_", " "),
        }
        for c in codes
    }
