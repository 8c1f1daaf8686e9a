"""Between scim2-models resources and the SCIM service's plain values, and the
discovery documents (ServiceProviderConfig, Schemas, ResourceTypes)."""

from typing import Any

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    EnterpriseUser,
    ETag,
    Filter,
    Group,
    Meta,
    Patch,
    Required,
    ResourceType,
    Schema,
    SchemaExtension,
    ServiceProviderConfig,
    Sort,
    User,
)

from roster.domain.scim import ScimGroup, ScimUser
from roster.entrypoints.web.scim.bodies import ENTERPRISE, POLICY
from roster.services.scim import GroupWrite, UserWrite

UserModel = User[EnterpriseUser]
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
MAX_RESULTS = 200


def user_model(su: ScimUser, base: str, groups: list[tuple[str, str]] | None = None) -> Any:
    """The User resource a provider reads: stored attributes, plus what Roster owns
    (id, userName, active from the status, meta)."""
    doc: dict[str, Any] = dict(su.attributes)
    doc["schemas"] = [CORE_USER] + ([ENTERPRISE] if doc.get(ENTERPRISE) else [])
    doc["id"] = su.user.id
    doc["userName"] = su.user_name
    doc["active"] = su.active
    if su.external_id is not None:
        doc["externalId"] = su.external_id
    if su.display_name:
        doc["displayName"] = su.display_name
    if groups:
        doc["groups"] = [
            {"value": g, "display": name, "$ref": f"{base}/Groups/{g}", "type": "direct"}
            for g, name in groups
        ]
    doc["meta"] = {
        "resourceType": "User",
        "created": su.created_at.isoformat(),
        "lastModified": su.last_modified.isoformat(),
        "location": f"{base}/Users/{su.user.id}",
        "version": su.etag,
    }
    return UserModel.model_validate(doc, scim_ctx=None, scim_policy=POLICY)


def user_write(model: Any, *, keep_active: bool = False) -> UserWrite:
    """What a provider stated, as the service takes it. `active` left out of a
    PUT leaves the status alone."""
    doc = model.model_dump(scim_ctx=Context.DEFAULT, scim_policy=POLICY)
    active = model.active
    return UserWrite(
        user_name=str(doc.get("userName") or ""),
        external_id=doc.get("externalId"),
        display_name=doc.get("displayName"),
        active=None if active is None and not keep_active else active,
        attributes=doc,
    )


def group_model(group: ScimGroup, base: str) -> Group:
    doc: dict[str, Any] = dict(group.attributes)
    present = {member_id for member_id, _ in group.members}
    kinds = dict(group.members)
    members = []
    for sent in doc.pop("members", None) or []:
        value = str(sent.get("value"))
        if value in present:
            kind = kinds[value]
            plural = "Users" if kind == "User" else "Groups"
            members.append(
                {k: v for k, v in sent.items() if v is not None}
                | {"value": value, "$ref": sent.get("$ref") or f"{base}/{plural}/{value}"}
                | {"type": sent.get("type") or kind}
            )
    doc |= {
        "schemas": [CORE_GROUP],
        "id": group.id,
        "displayName": group.display_name,
        "meta": {
            "resourceType": "Group",
            "created": group.created_at.isoformat(),
            "lastModified": group.updated_at.isoformat(),
            "location": f"{base}/Groups/{group.id}",
            "version": group.etag,
        },
    }
    if members:
        doc["members"] = members
    if group.external_id is not None:
        doc["externalId"] = group.external_id
    return Group.model_validate(doc, scim_ctx=None, scim_policy=POLICY)


def group_write(model: Group) -> GroupWrite:
    doc = model.model_dump(scim_ctx=Context.DEFAULT, scim_policy=POLICY)
    return GroupWrite(
        display_name=str(doc.get("displayName") or ""),
        external_id=doc.get("externalId"),
        members=[m for m in doc.get("members") or [] if m.get("value")],
        attributes=doc,
    )


def service_provider_config(base: str) -> ServiceProviderConfig:
    return ServiceProviderConfig(
        documentation_uri=None,
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=True),
        etag=ETag(supported=True),
        authentication_schemes=[
            AuthenticationScheme(
                type="oauthbearertoken",
                name="Bearer token",
                description="A Roster token of kind scim: roster tokens create --kind scim",
                primary=True,
            )
        ],
        meta=Meta(resource_type="ServiceProviderConfig", location=f"{base}/ServiceProviderConfig"),
    )


def schemas(base: str) -> list[Schema]:
    found = []
    for model in (User, Group, EnterpriseUser):
        schema = model.to_schema()
        if model is User:
            _status_is_always_assigned(schema)
        schema.meta = Meta(resource_type="Schema", location=f"{base}/Schemas/{schema.id}")
        found.append(schema)
    return found


def _status_is_always_assigned(schema: Schema) -> None:
    """`active` is the reading of the user's status, which always has a value: it
    is published as required (a create without it makes an Active user), and a
    PATCH cannot remove it."""
    for attribute in schema.attributes or []:
        if attribute.name == "active":
            attribute.required = Required.true
            attribute.description = (
                "Whether the user is Active. Inactive and Blocked users read false; "
                "a Blocked user cannot be made active through SCIM."
            )


def resource_types(base: str) -> list[ResourceType]:
    users = ResourceType(
        id="User",
        name="User",
        description="A Roster user: active reads true only for an Active user.",
        endpoint="/Users",
        schema_=CORE_USER,
        schema_extensions=[SchemaExtension(schema_=ENTERPRISE, required=False)],
        meta=Meta(resource_type="ResourceType", location=f"{base}/ResourceTypes/User"),
    )
    groups = ResourceType(
        id="Group",
        name="Group",
        description="A group of users, as the identity provider keeps it.",
        endpoint="/Groups",
        schema_=CORE_GROUP,
        meta=Meta(resource_type="ResourceType", location=f"{base}/ResourceTypes/Group"),
    )
    return [users, groups]
