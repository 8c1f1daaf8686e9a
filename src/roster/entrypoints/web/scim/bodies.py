"""Reading what identity providers send, including the shapes they really send.

Entra's default job capitalises op names, sends booleans as "True"/"False",
path-less replaces keyed by attribute paths, the manager as a bare id or a
one-element array, and filters with unquoted values; it posts
`application/scim+json; charset=utf-8`. scim2-models, under `POLICY`, takes care
of most of it; the rest is mended here before validation.
"""

import json
import re
from typing import Any

from fastapi import Request
from scim2_models import (
    BaseModel as ScimModel,
)
from scim2_models import (
    InvalidSyntaxException,
    InvalidValueException,
    Mutability,
    ScimPolicy,
)

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
_ENTERPRISE_NAMES = ("employeeNumber", "costCenter", "organization", "division", "department")
_JSON_TYPES = ("application/scim+json", "application/json")

POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,  # Entra sends nulls and root-level extras
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,  # Entra's member removal
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,  # add emails[type eq "work"]
)


async def read_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object, or invalidSyntax. Any JSON content type is taken;
    a body sent without one is read as JSON too."""
    _check_content_type(request)  # before reading the body
    return parse_json(request, await request.body())


def _check_content_type(request: Request) -> None:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind and kind not in _JSON_TYPES and not kind.endswith("+json"):
        raise InvalidSyntaxException(detail=f"Send the body as application/scim+json, not {kind}.")


def parse_json(request: Request, raw: bytes) -> dict[str, Any]:
    """`read_json` of a body already read (`raw`)."""
    _check_content_type(request)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as bad:
        raise InvalidSyntaxException(detail=f"The body is not valid JSON: {bad}") from bad
    except RecursionError:  # json.loads gives up on thousands of nested levels
        raise InvalidSyntaxException(detail="The body nests too deeply.") from None
    if not isinstance(body, dict):
        raise InvalidSyntaxException(detail="The body must be a JSON object.")
    _refuse_unstorable(body)
    return body


def _refuse_unstorable(body: Any) -> None:
    """invalidValue for text no database can keep: NUL characters, lone surrogates."""
    pending = [body]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and ("\x00" in value or not _encodable(value)):
            raise InvalidValueException(
                detail="Text in the body may not hold NUL characters or lone surrogates."
            )


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def without_read_only(model: type[ScimModel], body: dict[str, Any]) -> dict[str, Any]:
    """The body without the attributes `model` declares readOnly (`id`, `meta`, a
    User's `groups`, …), at any depth.

    RFC 7643 §2.2: values a client sends for readOnly attributes are ignored.
    scim2-models ignores them too, but only once they validate, and providers echo
    what they read back in their own shapes (Okta's `meta.created` as
    "04-12-2018 00:00:00"): so they are dropped before validation, by the model's
    own Mutability annotations.
    """
    fields = {
        (info.serialization_alias or name).lower(): name
        for name, info in model.model_fields.items()
    }
    out: dict[str, Any] = {}
    for key, value in body.items():
        name = fields.get(key.lower()) if isinstance(key, str) else None
        if name is None:
            out[key] = value
        elif model.get_field_annotation(name, Mutability) != Mutability.read_only:
            out[key] = _inner_without_read_only(model.get_field_root_type(name), value)
    return out


def _inner_without_read_only(kind: type | None, value: Any) -> Any:
    if not (isinstance(kind, type) and issubclass(kind, ScimModel)):
        return value
    if isinstance(value, dict):
        return without_read_only(kind, value)
    if isinstance(value, list):
        return [without_read_only(kind, v) if isinstance(v, dict) else v for v in value]
    return value


def lift_enterprise(body: dict[str, Any]) -> dict[str, Any]:
    """Move enterprise attributes sent at the root (Entra's older shape) into the
    extension, and make a manager a complex value."""
    out = dict(body)
    if not isinstance(out.get(ENTERPRISE) or {}, dict):
        return out  # not an object: validation refuses it (invalidValue)
    extension = dict(out.get(ENTERPRISE) or {})
    for name in (*_ENTERPRISE_NAMES, "manager"):
        for key in [k for k in out if k.lower() == name.lower()]:
            value = out.pop(key)
            if value is not None:
                extension.setdefault(name, value)
    if "manager" in extension:
        extension["manager"] = _manager(extension["manager"])
    if extension:
        out[ENTERPRISE] = extension
    return out


def _manager(value: Any) -> Any:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str):
        return {"value": value}
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if v is not None}
    return value


def _is_manager_path(path: str) -> bool:
    lowered = path.lower()
    return lowered == "manager" or lowered == f"{ENTERPRISE}:manager".lower()


def mend_patch(body: dict[str, Any]) -> dict[str, Any]:
    """Entra's manager forms → the enterprise extension's complex `manager`."""
    operations = body.get("Operations") or body.get("operations")
    if not isinstance(operations, list):
        return body
    mended = []
    for sent in operations:
        if not isinstance(sent, dict):
            mended.append(sent)
            continue
        op = dict(sent)
        path = op.get("path")
        if isinstance(path, str) and _is_manager_path(path):
            op["path"] = f"{ENTERPRISE}:manager"
            if "value" in op:
                op["value"] = _manager(op["value"])
        elif path is None and isinstance(op.get("value"), dict):
            op["value"] = lift_enterprise(op["value"])
        elif isinstance(op.get("value"), list):
            # Entra's member objects carry "$ref": null, which would otherwise
            # have to match too when a remove selects members by value.
            op["value"] = [
                {k: v for k, v in item.items() if v is not None} if isinstance(item, dict) else item
                for item in op["value"]
            ]
        mended.append(op)
    return {k: v for k, v in body.items() if k not in ("Operations", "operations")} | {
        "Operations": mended
    }


_OPERATOR = r"(eq|ne|co|sw|ew|gt|ge|lt|le)"
_UNQUOTED = re.compile(rf"(?i)\b{_OPERATOR}\s+(?![\"(\[])([^\s\"()\[\]]+)")
_QUOTED = re.compile(r'("(?:[^"\\]|\\.)*")')
_LITERALS = re.compile(r"(?i)^(true|false|null|-?\d+(\.\d+)?([eE][-+]?\d+)?)$")
_MANAGER = re.compile(
    rf"(?i)(?<![\w:.]){re.escape(ENTERPRISE)}:manager(?![\w.])|(?<![\w:.])manager(?![\w.])"
)


def mend_filter(text: str) -> str:
    """Quote values Entra leaves bare, and read `manager` as the enterprise
    manager's id, as Entra's manager check means it."""

    def quote(match: re.Match[str]) -> str:
        op, value = match.group(1), match.group(2)
        if _LITERALS.match(value):
            return match.group(0)
        return f'{op} "{value}"'

    parts = _QUOTED.split(text)
    for i in range(0, len(parts), 2):  # outside the quoted values only
        if len(parts) == 1:
            parts[i] = _UNQUOTED.sub(quote, parts[i])
        parts[i] = _MANAGER.sub(f"{ENTERPRISE}:manager.value", parts[i])
    return "".join(parts)


PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
_ACTIVE_PATHS = ("active", "urn:ietf:params:scim:schemas:core:2.0:user:active")
_BOOLEANS = {"true": True, "false": False}


def only_active(body: dict[str, Any]) -> bool | None:
    """The `active` a (mended) PatchOp sets when that is all it does, else None.

    The request every provider sends all day: `replace` or `add` of `active`, with
    a path (`active`, or the core schema's `…:User:active`) or path-less as
    `{"active": …}`, the value a boolean or Entra's "True"/"False". Several such
    operations: the last wins, as applying them in order would. Anything else,
    or anything malformed, is None and goes through the full PATCH path.
    """
    operations = body.get("Operations")
    if set(body) != {"schemas", "Operations"} or body["schemas"] != [PATCH_OP]:
        return None
    if not isinstance(operations, list) or not operations:
        return None
    values = [_active_of(op) for op in operations]
    return None if None in values else values[-1]


def _active_of(op: Any) -> bool | None:
    """The `active` one operation sets, when that is all it does, else None."""
    if not isinstance(op, dict) or not set(op) <= {"op", "path", "value"}:
        return None
    if str(op.get("op", "")).lower() not in ("replace", "add"):
        return None
    value, path = op.get("value"), op.get("path")
    if path is None and isinstance(value, dict) and len(value) == 1:
        ((path, value),) = value.items()
    if not isinstance(path, str) or path.lower() not in _ACTIVE_PATHS:
        return None
    if isinstance(value, str):
        value = _BOOLEANS.get(value.lower())
    return value if isinstance(value, bool) else None
