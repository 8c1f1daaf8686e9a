"""/scim/v2: Users, Groups and the discovery endpoints (RFC 7644).

Every route authenticates a `scim` token (another kind gets 403) and answers
application/scim+json; every failure is a SCIM Error (see errors.py).
"""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from scim2_models import (
    Context,
    Group,
    MutabilityException,
    NotFoundException,
    PatchOp,
    ResourceType,
    Schema,
)
from sqlalchemy import Connection, Engine

from roster.domain import errors
from roster.domain.credentials import CredentialKind, Principal
from roster.domain.scim import ScimUser
from roster.entrypoints.web.deps import ContainerDep
from roster.entrypoints.web.scim import queries, root_search
from roster.entrypoints.web.scim.bodies import (
    POLICY,
    lift_enterprise,
    mend_patch,
    only_active,
    read_json,
    without_read_only,
)
from roster.entrypoints.web.scim.errors import ScimResponse, ScimRoute, error_response
from roster.entrypoints.web.scim.resources import (
    CORE_USER as CORE,
)
from roster.entrypoints.web.scim.resources import (
    UserModel,
    group_model,
    group_write,
    resource_types,
    schemas,
    service_provider_config,
    user_model,
    user_write,
)
from roster.services import scim
from roster.services.access import authenticate

PREFIX = "/scim/v2"
router = APIRouter(prefix=PREFIX, route_class=ScimRoute, tags=["scim"], include_in_schema=False)


def scim_principal(request: Request, container: ContainerDep) -> Principal:
    """The scim token's principal (one query); 401 without one, 403 for another kind."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" else ""
    with container.engine.connect() as conn:
        principal = authenticate(conn, bearer or None, container.clock())
    request.state.workspace_id = principal.workspace_id  # for the request's log line
    if principal.kind != CredentialKind.SCIM:
        raise errors.Forbidden(
            "Only a scim token may use /scim/v2 (roster tokens create --kind scim)."
        )
    return principal


ScimPrincipal = Annotated[Principal, Depends(scim_principal)]


async def scim_body(request: Request) -> dict[str, Any]:
    """The request's JSON object (bodies.read_json), read on the event loop so the
    route itself can be a plain function run in the thread pool."""
    return await read_json(request)


ScimBody = Annotated[dict[str, Any], Depends(scim_body)]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


def _one(
    body: Any, status: int = 200, etag: str | None = None, location: str | None = None
) -> Response:
    headers = {}
    if etag:
        headers["ETag"] = etag
    if location:
        headers["Location"] = location
    return ScimResponse(body, status_code=status, headers=headers)


def _params(request: Request) -> dict[str, Any]:
    return dict(request.query_params)


# Discovery


@router.get("/ServiceProviderConfig")
def get_service_provider_config(request: Request, _: ScimPrincipal) -> Response:
    config = service_provider_config(_base(request))
    return _one(config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


def _listed(model: Any, items: list[Any]) -> Response:
    body = queries.list_type(model)(
        total_results=len(items), start_index=1, items_per_page=len(items), resources=items
    )
    return _one(body.model_dump(scim_ctx=Context.SEARCH_RESPONSE))


@router.get("/Schemas")
def get_schemas(request: Request, _: ScimPrincipal) -> Response:
    return _listed(Schema, schemas(_base(request)))


@router.get("/Schemas/{schema_id}")
def get_schema(schema_id: str, request: Request, _: ScimPrincipal) -> Response:
    for schema in schemas(_base(request)):
        if schema.id == schema_id:
            return _one(schema.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    raise NotFoundException(detail=f"No schema {schema_id}.")


@router.get("/ResourceTypes")
def get_resource_types(request: Request, _: ScimPrincipal) -> Response:
    return _listed(ResourceType, resource_types(_base(request)))


@router.get("/ResourceTypes/{type_id}")
def get_resource_type(type_id: str, request: Request, _: ScimPrincipal) -> Response:
    for kind in resource_types(_base(request)):
        if kind.id == type_id:
            return _one(kind.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    raise NotFoundException(detail=f"No resource type {type_id}.")


# Users


def _user_body(
    su: ScimUser,
    base: str,
    groups: list[tuple[str, str]] | None,
    search: Any = None,
    context: Context = Context.RESOURCE_QUERY_RESPONSE,
) -> dict[str, Any]:
    """The User resource as answered: validated and dumped by scim2-models."""
    model = user_model(su, base, groups)
    dumped: dict[str, Any] = model.model_dump(scim_ctx=context, response_parameters=search)
    return dumped


def _user_page(
    db: Engine | Connection, workspace: str, base: str, search: Any
) -> tuple[queries.Page, dict[str, list[tuple[str, str]]]]:
    """The page of users a search asks for (ScimUser each), and their groups."""
    if search.filter is None and search.sort_by is None:
        start, count = queries.bounds(search)
        total, found = scim.page_users(db, workspace, offset=start - 1, limit=count)
        page = queries.Page(total, start, found)
    else:
        narrowed = queries.narrowing(search.filter.ast) if search.filter is not None else None
        candidates, groups = scim.find_users(db, workspace, narrowed)
        by_id = {su.user.id: su for su in candidates}
        if groups is not None:  # a few candidates, groups at hand: filter on them too
            built = [user_model(su, base, groups.get(su.user.id)) for su in candidates]
        else:
            built = [user_model(su, base) for su in candidates]
        page = queries.select(search, built)
        page = queries.Page(page.total, page.start_index, [by_id[m.id] for m in page.resources])
        if groups is not None:
            return page, groups
    ids = [su.user.id for su in page.resources]
    return page, scim.groups_of_users(db, workspace, ids)


def _search_users(
    request: Request, db: Engine | Connection, principal: Principal, params: dict[str, Any]
) -> Response:
    search = queries.search_request(UserModel, params)
    base = _base(request)
    page, groups = _user_page(db, principal.workspace_id, base, search)
    context = Context.SEARCH_RESPONSE
    return _one(
        queries.list_response(
            page, lambda su: _user_body(su, base, groups.get(su.user.id), search, context)
        )
    )


@router.get("/Users")
def list_users(request: Request, container: ContainerDep, principal: ScimPrincipal) -> Response:
    return _search_users(request, container.engine, principal, _params(request))


@router.post("/Users/.search")
def search_users(
    request: Request, container: ContainerDep, principal: ScimPrincipal, body: ScimBody
) -> Response:
    return _search_users(request, container.engine, principal, body)


@router.get("/Users/{user_id}")
def get_user(
    user_id: str, request: Request, container: ContainerDep, principal: ScimPrincipal
) -> Response:
    su, groups = scim.user_with_groups(container.engine, principal.workspace_id, user_id)
    search = queries.search_request(UserModel, _params(request))
    return _one(_user_body(su, _base(request), groups, search), etag=su.etag)


@router.post("/Users")
def create_user(
    request: Request, container: ContainerDep, principal: ScimPrincipal, body: ScimBody
) -> Response:
    body = without_read_only(UserModel, lift_enterprise(body))
    model = UserModel.model_validate(
        body, scim_ctx=Context.RESOURCE_CREATION_REQUEST, scim_policy=POLICY
    )
    su = scim.create_user(
        container.uow(),
        workspace_id=principal.workspace_id,
        actor=principal.actor,
        write=user_write(model, keep_active=True),
        now=container.clock(),
        request_id=request.state.request_id,
    )
    groups = scim.groups_of_users(container.engine, su.user.workspace_id, [su.user.id])
    body = _user_body(su, _base(request), groups[su.user.id])
    return _one(body, 201, su.etag, body["meta"]["location"])


@router.put("/Users/{user_id}")
def replace_user(
    user_id: str,
    request: Request,
    container: ContainerDep,
    principal: ScimPrincipal,
    body: ScimBody,
) -> Response:
    body = without_read_only(UserModel, lift_enterprise(body))
    current, groups = scim.user_with_groups(container.engine, principal.workspace_id, user_id)
    model = UserModel.model_validate(
        body, scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST, scim_policy=POLICY
    )
    model.replace(user_model(current, _base(request)))
    return _write_user(request, container, principal, current, groups, model)


@router.patch("/Users/{user_id}")
def patch_user(
    user_id: str,
    request: Request,
    container: ContainerDep,
    principal: ScimPrincipal,  # before the body: a 401 comes before a 400
    body: ScimBody,
) -> Response:
    body = mend_patch(body)
    current, groups = scim.user_with_groups(container.engine, principal.workspace_id, user_id)
    active = only_active(body)
    if active is not None:  # `active` alone: no resource to patch, nothing else to save
        su = scim.set_active(
            container.uow(),
            current,
            active,
            actor=principal.actor,
            now=container.clock(),
            if_match=request.headers.get("if-match"),
            request_id=request.state.request_id,
        )
        return _one(_user_body(su, _base(request), groups), etag=su.etag)
    patch = _USER_PATCH.model_validate(
        body, scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
    )
    _refuse_removing_active(patch)
    model = user_model(current, _base(request))
    patch.patch(model, scim_policy=POLICY)
    return _write_user(request, container, principal, current, groups, model)


_USER_PATCH = PatchOp[UserModel]


def _refuse_removing_active(patch: Any) -> None:
    for operation in patch.operations or []:
        if operation.op == "remove" and str(operation.path).lower() in ("active", f"{CORE}:active"):
            raise MutabilityException(
                detail="active is the user's status and cannot be removed; "
                "replace it with false to deactivate the user."
            )


def _write_user(
    request: Request,
    container: ContainerDep,
    principal: Principal,
    current: ScimUser,
    groups: list[tuple[str, str]],
    model: Any,
) -> Response:
    """Write, and answer the user as stored. Writing a user never changes their
    groups (read-only here), so the groups read with `current` still hold."""
    su = scim.update_user(
        container.uow(),
        current,
        actor=principal.actor,
        write=user_write(model),
        now=container.clock(),
        if_match=request.headers.get("if-match"),
        request_id=request.state.request_id,
    )
    return _one(_user_body(su, _base(request), groups), etag=su.etag)


@router.delete("/Users/{user_id}")
def delete_user(
    user_id: str, request: Request, container: ContainerDep, principal: ScimPrincipal
) -> Response:
    """Deactivates and deprovisions: Inactive, then 404 to SCIM (docs/scim.md)."""
    scim.deactivate_user(
        container.uow(),
        workspace_id=principal.workspace_id,
        user_id=user_id,
        actor=principal.actor,
        now=container.clock(),
        if_match=request.headers.get("if-match"),
        request_id=request.state.request_id,
    )
    return Response(status_code=204)


# Groups


def _search_groups(
    request: Request, container: ContainerDep, principal: Principal, params: dict[str, Any]
) -> Response:
    search = queries.search_request(Group, params)
    narrowed = queries.narrowing(search.filter.ast) if search.filter is not None else None
    base = _base(request)
    found = scim.find_groups(container.engine, principal.workspace_id, narrowed)
    page = queries.select(search, [group_model(g, base) for g in found])
    return _one(queries.list_response(page, queries.dumped(search)))


@router.get("/Groups")
def list_groups(request: Request, container: ContainerDep, principal: ScimPrincipal) -> Response:
    return _search_groups(request, container, principal, _params(request))


@router.post("/Groups/.search")
def search_groups(
    request: Request, container: ContainerDep, principal: ScimPrincipal, body: ScimBody
) -> Response:
    return _search_groups(request, container, principal, body)


@router.get("/Groups/{group_id}")
def get_group(
    group_id: str, request: Request, container: ContainerDep, principal: ScimPrincipal
) -> Response:
    group = scim.get_group(container.engine, principal.workspace_id, group_id)
    search = queries.search_request(Group, _params(request))
    out = group_model(group, _base(request))
    body = out.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE, response_parameters=search)
    return _one(body, etag=group.etag)


@router.post("/Groups")
def create_group(
    request: Request, container: ContainerDep, principal: ScimPrincipal, body: ScimBody
) -> Response:
    model = Group.model_validate(
        without_read_only(Group, body),
        scim_ctx=Context.RESOURCE_CREATION_REQUEST,
        scim_policy=POLICY,
    )
    group = scim.create_group(
        container.uow(),
        workspace_id=principal.workspace_id,
        write=group_write(model),
        now=container.clock(),
    )
    out = group_model(group, _base(request))
    body = out.model_dump(scim_ctx=Context.RESOURCE_CREATION_RESPONSE)
    return _one(body, 201, group.etag, out.meta.location if out.meta else None)


@router.put("/Groups/{group_id}")
def replace_group(
    group_id: str,
    request: Request,
    container: ContainerDep,
    principal: ScimPrincipal,
    body: ScimBody,
) -> Response:
    current = scim.get_group(container.engine, principal.workspace_id, group_id)
    model = Group.model_validate(
        without_read_only(Group, body),
        scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST,
        scim_policy=POLICY,
    )
    model.replace(group_model(current, _base(request)))
    return _write_group(request, container, principal, group_id, model)


@router.patch("/Groups/{group_id}")
def patch_group(
    group_id: str,
    request: Request,
    container: ContainerDep,
    principal: ScimPrincipal,
    body: ScimBody,
) -> Response:
    body = mend_patch(body)
    current = scim.get_group(container.engine, principal.workspace_id, group_id)
    patch = PatchOp[Group].model_validate(
        body, scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
    )
    model = group_model(current, _base(request))
    patch.patch(model, scim_policy=POLICY)
    return _write_group(request, container, principal, group_id, model)


def _write_group(
    request: Request, container: ContainerDep, principal: Principal, group_id: str, model: Group
) -> Response:
    group = scim.update_group(
        container.uow(),
        workspace_id=principal.workspace_id,
        group_id=group_id,
        write=group_write(model),
        now=container.clock(),
        if_match=request.headers.get("if-match"),
    )
    out = group_model(group, _base(request))
    return _one(out.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE), etag=group.etag)


@router.delete("/Groups/{group_id}")
def delete_group(
    group_id: str, request: Request, container: ContainerDep, principal: ScimPrincipal
) -> Response:
    scim.delete_group(
        container.uow(),
        workspace_id=principal.workspace_id,
        group_id=group_id,
        if_match=request.headers.get("if-match"),
    )
    return Response(status_code=204)


@router.get("")
@router.get("/")
def query_everything(
    request: Request, container: ContainerDep, principal: ScimPrincipal
) -> Response:
    """A GET query at the root (RFC 7644 §3.4.2): as the root /.search."""
    found = root_search.search_everything(
        container.engine, principal.workspace_id, _base(request), _params(request)
    )
    return _one(found)


@router.post("/.search")
def search_everything(
    request: Request, container: ContainerDep, principal: ScimPrincipal, body: ScimBody
) -> Response:
    """Users and Groups of the workspace in one ListResponse (root_search.py)."""
    found = root_search.search_everything(
        container.engine, principal.workspace_id, _base(request), body
    )
    return _one(found)


# Anything else under /scim/v2: 405 on a known path, else 404, as SCIM errors.

_KNOWN = [
    re.compile(p)
    for p in (
        r"/ServiceProviderConfig",
        r"/Schemas(/[^/]+)?",
        r"/ResourceTypes(/[^/]+)?",
        r"/(Users|Groups)(/[^/]+)?",
        r"/\.search",
    )
]


@router.api_route(
    "/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
)
def elsewhere(rest: str, _: ScimPrincipal) -> Response:
    if any(p.fullmatch("/" + rest) for p in _KNOWN):
        return error_response(405, "This method is not supported on this endpoint.")
    return error_response(404, f"There is nothing at {PREFIX}/{rest}.")
