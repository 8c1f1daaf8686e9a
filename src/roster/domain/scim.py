"""A user and a group as SCIM sees them: the Roster user with the attributes an
identity provider stated, and the groups it keeps (groups carry no status)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from roster.domain.users import User
from roster.domain.vocabulary import Status


def reads_active(status: Status) -> bool:
    """SCIM's `active`: Active reads true; Inactive and Blocked read false."""
    return status == Status.ACTIVE


@dataclass(frozen=True, slots=True)
class ScimUser:
    user: User
    created_at: datetime
    user_name: str
    external_id: str | None
    display_name: str | None
    attributes: dict[str, Any]
    scim_version: int
    updated_at: datetime | None
    linked: bool = True  # has a SCIM row: the SCIM fields above are as stored

    @property
    def active(self) -> bool:
        return reads_active(self.user.status)

    @property
    def etag(self) -> str:
        return f'W/"{self.user.version}-{self.scim_version}"'

    @property
    def last_modified(self) -> datetime:
        stamps = [self.created_at, self.updated_at, self.user.status_changed_at]
        return max(s for s in stamps if s is not None)


@dataclass(frozen=True, slots=True)
class ScimGroup:
    id: str
    display_name: str
    external_id: str | None
    attributes: dict[str, Any]
    members: list[tuple[str, str]]  # (id, "User" | "Group")
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'
