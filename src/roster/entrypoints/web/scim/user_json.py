"""A User resource's JSON written directly, for the users scim2-models would only
copy Roster's own fields for: those with no stored SCIM attributes (users made in
Roster, and users a provider created with a userName alone). The same JSON as
validating `resources.user_model` and dumping it (tests/unit/test_scim_user_json.py
compares the two on many users), in a fraction of its time; for any other user,
or any request naming attributes to return or leave out, `document` answers None
and the caller goes through scim2-models.
"""

from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from roster.entrypoints.web.scim.resources import CORE_USER
from roster.services.scim import ScimUser

_STAMP: TypeAdapter[datetime] = TypeAdapter(datetime)


def _stamp(value: datetime) -> Any:
    """meta's dates as the model writes them: read from their ISO text, as
    `user_model` hands them over, and written back by pydantic."""
    return _STAMP.dump_python(_STAMP.validate_python(value.isoformat()), mode="json")


def document(
    su: ScimUser, base: str, groups: list[tuple[str, str]] | None, search: Any = None
) -> dict[str, Any] | None:
    """The User resource, or None when scim2-models must write it (see above)."""
    if su.attributes or _names_attributes(search):
        return None
    doc: dict[str, Any] = {"schemas": [CORE_USER], "id": su.user.id}
    if su.external_id is not None:
        doc["externalId"] = su.external_id
    doc["meta"] = {
        "resourceType": "User",
        "created": _stamp(su.created_at),
        "lastModified": _stamp(su.last_modified),
        "location": f"{base}/Users/{su.user.id}",
        "version": su.etag,
    }
    doc["userName"] = su.user_name
    if su.display_name:
        doc["displayName"] = su.display_name
    doc["active"] = su.active
    if groups:
        doc["groups"] = [
            {"value": g, "$ref": f"{base}/Groups/{g}", "display": name, "type": "direct"}
            for g, name in groups
        ]
    return doc


def _names_attributes(search: Any) -> bool:
    return search is not None and bool(search.attributes or search.excluded_attributes)
