"""The API reference page: the app's own OpenAPI document rendered to plain HTML on
the server. No script, no CDN: it is always exactly the API this server runs."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

router = APIRouter(include_in_schema=False)

_templates = Environment(
    loader=PackageLoader("roster.entrypoints.web.api", "templates"),
    autoescape=select_autoescape(default=True),
)
METHODS = ("get", "post", "put", "patch", "delete")


@router.get("/reference", response_class=HTMLResponse)
def reference(request: Request) -> str:
    """The reference of every operation and schema in /openapi.json."""
    spec: dict[str, Any] = request.app.openapi()
    return _templates.get_template("reference.html").render(
        info=spec["info"],
        groups=_groups(spec),
        schemas=[
            _schema(name, s)
            for name, s in sorted(spec.get("components", {}).get("schemas", {}).items())
        ],
    )


@router.get("", response_class=RedirectResponse, status_code=307)
def index() -> str:
    return "/api/v1/reference"


def _groups(spec: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Operations grouped by their first tag, in the document's order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if op := item.get(method):
                tag = (op.get("tags") or ["other"])[0]
                groups.setdefault(tag, []).append(_operation(path, method, op))
    return list(groups.items())


def _operation(path: str, method: str, op: dict[str, Any]) -> dict[str, Any]:
    body = op.get("requestBody", {}).get("content", {})
    return {
        "id": op.get("operationId", f"{method}-{path}"),
        "method": method.upper(),
        "path": path,
        "summary": op.get("summary", ""),
        "description": op.get("description", ""),
        "secured": bool(op.get("security")),
        "parameters": [
            {
                "name": p["name"],
                "in": p["in"],
                "required": p.get("required", False),
                "type": type_of(p.get("schema", {})),
                "description": p.get("description") or p.get("schema", {}).get("description", ""),
            }
            for p in op.get("parameters", [])
        ],
        "body": [(media, type_of(c.get("schema", {}))) for media, c in body.items()],
        "responses": [
            {
                "status": status,
                "description": r.get("description", ""),
                "content": [
                    (media, type_of(c.get("schema", {})))
                    for media, c in r.get("content", {}).items()
                ],
            }
            for status, r in sorted(op.get("responses", {}).items())
        ],
    }


def _schema(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    required = set(schema.get("required", []))
    return {
        "name": name,
        "description": schema.get("description", ""),
        "enum": schema.get("enum"),
        "fields": [
            {
                "name": field,
                "type": type_of(prop),
                "required": field in required,
                "description": prop.get("description", ""),
            }
            for field, prop in schema.get("properties", {}).items()
        ],
    }


def type_of(schema: dict[str, Any]) -> str:
    """A short reading of a JSON schema: `UserOut`, `list of Status`, `string | null`."""
    if ref := schema.get("$ref"):
        return str(ref).rsplit("/", 1)[-1]
    for combiner in ("anyOf", "oneOf", "allOf"):
        if options := schema.get(combiner):
            return " | ".join(type_of(o) for o in options)
    if schema.get("type") == "array":
        return "list of " + type_of(schema.get("items", {}))
    if "enum" in schema:
        return " | ".join(f'"{v}"' for v in schema["enum"])
    kind = str(schema.get("type", "any"))
    return f"{kind} ({schema['format']})" if "format" in schema else kind
