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


# --- The same names in words people use (the dashboard, API docs and CLI share them) ---

ROUTE_WORDS: dict[Route, str] = {
    Route.ADMIN_PROFILE: "by an admin in the dashboard",
    Route.ADMIN_API: "by an admin through the API",
    Route.CLI: "from the command line",
    Route.BULK: "by a bulk action",
    Route.AUTOMATION: "by an automation",
    Route.SIGN_IN: "at sign-in",
    Route.INVITATION: "by accepting an invitation",
    Route.UPGRADE: "by the API (seat upgrade)",
    Route.SCIM: "by SCIM (the identity provider)",
    Route.PASSWORD_RESET: "by a password reset",
}
"""How a change reached us, completing "Changed …" or "Refused …"."""

REFUSAL_WORDS: dict[str, str] = {
    "user_blocked": "this user is Blocked",
    "transition_not_allowed": "this change is not allowed on this route",
    "cannot_change_own_status": "admins cannot change their own status",
    "last_owner": "this is the workspace's last Active owner",
    "seat_limit_reached": "the workspace has no free seat",
    "reason_required": "a reason is required",
    "version_conflict": "someone else changed this user first",
    "validation_error": "the request was not valid",
    "not_found": "no such user",
    "forbidden": "the credential may not do this",
    "unauthenticated": "the caller was not signed in",
    "user_inactive": "this user is Inactive",
    "password_mismatch": "the password did not match",
    "too_many_requests": "too many attempts",
    "uniqueness": "the address is already taken",
}
"""Refusal codes (PRODUCT §10) as the end of "Refused: …"."""

APPLIED_WORDS = "Applied"


def route_words(route: object) -> str:
    """`scim` → "by SCIM (the identity provider)"; an unknown route as it is."""
    value = str(getattr(route, "value", route) or "")
    return ROUTE_WORDS.get(Route(value), value) if value in Route._value2member_map_ else value


def refusal_words(code: str) -> str:
    """`user_blocked` → "this user is Blocked"; an unknown code in plain letters."""
    return REFUSAL_WORDS.get(code, code.replace("_", " "))


def outcome_words(outcome: str) -> str:
    """An audit outcome: "Applied", or "Refused: this user is Blocked"."""
    if outcome == "applied":
        return APPLIED_WORDS
    return f"Refused: {refusal_words(outcome)}"
