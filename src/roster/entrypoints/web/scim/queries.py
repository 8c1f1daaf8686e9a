"""List requests: filter, sortBy/sortOrder, startIndex/count, attributes.

scim2-models parses and evaluates the filter. The parts of it that name a
column Roster indexes (id, userName, externalId, displayName) narrow what the
database returns first; the whole filter is then evaluated on what came back.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from scim2_models import Context, ListResponse, SearchRequest
from scim2_models.path import AttrPath, CompareOperator, Comparison, LogicalExpr, LogicalOperator

from roster.domain import errors
from roster.domain.emails import address_key
from roster.entrypoints.web.scim.bodies import mend_filter
from roster.entrypoints.web.scim.resources import MAX_RESULTS
from roster.services.scim import Narrowing

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def _split(value: str | None) -> list[str] | None:
    parts = [p.strip() for p in (value or "").split(",") if p.strip()]
    return parts or None


def search_request(model: Any, params: dict[str, Any]) -> Any:
    """A SearchRequest from query parameters or a /.search body (invalidFilter,
    invalidValue and the like come out of its validation)."""
    lowered = {k.lower(): v for k, v in params.items() if v is not None}
    fields: dict[str, Any] = {}
    if "filter" in lowered:
        fields["filter"] = mend_filter(str(lowered["filter"]))
    if "sortby" in lowered:
        fields["sort_by"] = lowered["sortby"]
    if "sortorder" in lowered:
        fields["sort_order"] = str(lowered["sortorder"]).lower()
    for name, key in (("start_index", "startindex"), ("count", "count")):
        if key in lowered:
            fields[name] = _integer(lowered[key], key)
    for name, key in (("attributes", "attributes"), ("excluded_attributes", "excludedattributes")):
        if key in lowered:
            raw = lowered[key]
            fields[name] = raw if isinstance(raw, list) else _split(str(raw))
    return _search_type(model)(**fields)


@cache
def _search_type(model: Any) -> Any:
    """SearchRequest[model], built once: scim2-models rebuilds the generic class
    (a pydantic schema) on every subscription its cache misses."""
    return SearchRequest[model]


@cache
def list_type(model: Any) -> Any:
    """ListResponse[model], built once (see `_search_type`)."""
    return ListResponse[model]


def _integer(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.InvalidInput(f"{name} must be an integer.") from None


def _core(path: AttrPath, *names: str) -> bool:
    in_core = path.uri is None or path.uri.startswith("urn:ietf:params:scim:schemas:core:2.0:")
    return in_core and path.sub_attr is None and path.attr.lower() in names


def _by_user_name(value: str) -> Narrowing:
    key = address_key(value)  # for an email address, its normalized form
    return Narrowing(user_name_keys=[key], emails=[key])


_INDEXED: dict[str, Callable[[str], Narrowing]] = {
    "id": lambda v: Narrowing(ids=[v]),
    "externalid": lambda v: Narrowing(external_ids=[v]),
    "username": _by_user_name,
    "displayname": lambda v: Narrowing(display_names=[v]),
}


def narrowing(node: Any) -> Narrowing | None:
    """A superset of the matches that the database can fetch by index, or None."""
    if isinstance(node, Comparison):
        path = node.attr_path
        indexed = next((f for name, f in _INDEXED.items() if _core(path, name)), None)
        if node.op != CompareOperator.eq or not isinstance(node.value, str) or indexed is None:
            return None
        return indexed(node.value)
    if isinstance(node, LogicalExpr):
        parts = [narrowing(t) for t in node.terms]
        if node.op == LogicalOperator.and_:
            return next((p for p in parts if p is not None), None)
        if all(p is not None for p in parts):
            return _union([p for p in parts if p is not None])
    return None


def _union(parts: list[Narrowing]) -> Narrowing:
    def joined(name: str) -> list[str] | None:
        lists = [getattr(p, name) for p in parts if getattr(p, name) is not None]
        return [v for values in lists for v in values] if lists else None

    # An OR of narrowings on different columns still fetches every match: the
    # repository ORs the lists, and an empty list would select nothing.
    return Narrowing(
        ids=joined("ids"),
        emails=joined("emails"),
        user_name_keys=joined("user_name_keys"),
        external_ids=joined("external_ids"),
        display_names=joined("display_names"),
    )


@dataclass(frozen=True, slots=True)
class Page:
    total: int
    start_index: int
    resources: list[Any]


def bounds(search: Any) -> tuple[int, int]:
    """(startIndex ≥ 1, count ≤ MAX_RESULTS) of a request."""
    # A start past any table pages past the end (and stays within SQL's OFFSET).
    start = min(max(1, search.start_index or 1), 2**31)
    count = MAX_RESULTS if search.count is None else max(0, min(search.count, MAX_RESULTS))
    return start, count


def select(search: Any, candidates: list[Any]) -> Page:
    """Filter, sort and page resources already built from the candidates."""
    found = candidates
    if search.filter is not None:
        found = [r for r in found if search.filter.match(r)]
    if search.sort_by is not None:
        found = search.sort(found)
    start, count = bounds(search)
    return Page(len(found), start, found[start - 1 : start - 1 + count])


def list_response(page: Page, dump: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """The ListResponse of a page, each resource as `dump` writes it (`dumped` for
    a scim2-models resource). Its envelope is written here: building the
    ListResponse model to dump it cost a quarter of a one-user list's serialization."""
    return {
        "schemas": [LIST_RESPONSE],
        "totalResults": page.total,
        "startIndex": page.start_index,
        "itemsPerPage": len(page.resources),
        "Resources": [dump(r) for r in page.resources],
    }


def dumped(search: Any) -> Callable[[Any], dict[str, Any]]:
    """A resource dumped by scim2-models as its ListResponse would dump it."""

    def dump(resource: Any) -> dict[str, Any]:
        out: dict[str, Any] = resource.model_dump(
            scim_ctx=Context.SEARCH_RESPONSE, response_parameters=search
        )
        return out

    return dump
