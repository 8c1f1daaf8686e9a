"""POST /scim/v2/.search: one search across Users and Groups (RFC 7644 §3.4.3).

The answer is one ListResponse whose Resources mix both types, each carrying its
own `schemas` and `meta.resourceType`. filter, sortBy/sortOrder, startIndex/count
and attributes/excludedAttributes mean what they mean on /Users/.search; a filter
naming an attribute only one type has matches none of the other (a Group has no
userName). Without sortBy, Users come first, then Groups, each in id order.
"""

from typing import Any, Union

from scim2_models import Group

from roster.domain.scim import ScimGroup, ScimUser
from roster.entrypoints.web.scim import queries
from roster.entrypoints.web.scim.resources import UserModel, group_model, user_model
from roster.services import scim

# A type's union, as scim2-models takes it for a ListResponse of several types.
ANY_RESOURCE: Any = Union[UserModel, Group]  # noqa: UP007


def search_everything(engine: Any, workspace: str, base: str, params: dict[str, Any]) -> Any:
    """The ListResponse body (a dict) for a root search of `workspace`."""
    search = queries.search_request(ANY_RESOURCE, params)
    if search.filter is None and search.sort_by is None:
        page = _page_in_order(engine, workspace, base, search)
    else:
        narrowed = queries.narrowing(search.filter.ast) if search.filter is not None else None
        users, groups_of = scim.find_users(engine, workspace, narrowed)
        if groups_of is None:
            groups_of = scim.groups_of_users(engine, workspace, [su.user.id for su in users])
        groups = scim.find_groups(engine, workspace, _for_groups(narrowed))
        page = queries.select(search, _models(users, groups_of, groups, base))
    return queries.list_response(page, queries.dumped(search))


def _for_groups(narrowed: scim.Narrowing | None) -> scim.Narrowing | None:
    """What narrows the groups: only a filter on id or displayName alone does (a
    filter on userName narrows the users, and every group stays a candidate)."""
    if narrowed is None or narrowed.emails or narrowed.user_name_keys or narrowed.external_ids:
        return None
    return scim.Narrowing(ids=narrowed.ids, display_names=narrowed.display_names)


def _page_in_order(engine: Any, workspace: str, base: str, search: Any) -> queries.Page:
    """No filter, no sort: a page of Users then Groups, without building the rest."""
    start, count = queries.bounds(search)
    user_total, users = scim.page_users(engine, workspace, offset=start - 1, limit=count)
    groups = scim.find_groups(engine, workspace, None)
    first_group = max(0, start - 1 - user_total)
    taken = groups[first_group : first_group + count - len(users)]
    groups_of = scim.groups_of_users(engine, workspace, [su.user.id for su in users])
    return queries.Page(user_total + len(groups), start, _models(users, groups_of, taken, base))


def _models(
    users: list[ScimUser],
    groups_of: dict[str, list[tuple[str, str]]],
    groups: list[ScimGroup],
    base: str,
) -> list[Any]:
    built: list[Any] = [user_model(su, base, groups_of.get(su.user.id)) for su in users]
    return built + [group_model(g, base) for g in groups]
