"""The stable names of the product: statuses, routes, roles and reason codes.

Enum values are lowercase strings stored in the database as they are.
"""

from enum import StrEnum


class Status(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    BLOCKED = "blocked"


class Route(StrEnum):
    """How a status change reached us: decided by code path and credential."""

    ADMIN_PROFILE = "admin_profile"
    ADMIN_API = "admin_api"
    CLI = "cli"
    BULK = "bulk"
    AUTOMATION = "automation"
    SIGN_IN = "sign_in"
    INVITATION = "invitation"
    UPGRADE = "upgrade"
    SCIM = "scim"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a route's name, not a secret
    """A password reset: a standard flow that changes no status. It names the
    refused attempt of a Blocked user, whose password it may not change."""


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


ADMIN_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class ReasonCode(StrEnum):
    PAYMENT_DISPUTE = "payment_dispute"
    ACCESS_VIOLATION = "access_violation"
    UNRESOLVED_ISSUE = "unresolved_issue"
    NEEDS_REVIEW = "needs_review"
    OTHER = "other"
    EXPIRED = "expired"  # the account's expiry date passed (services.expiry)
