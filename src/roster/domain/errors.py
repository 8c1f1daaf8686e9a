"""Domain refusals. Each carries the stable code and HTTP status of PRODUCT §10."""

from typing import ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "domain_error"
    http_status: ClassVar[int] = 400
    title: ClassVar[str] = "Request refused"

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.default_detail()
        super().__init__(self.detail)

    def default_detail(self) -> str:
        return self.title


class UserBlocked(DomainError):
    code = "user_blocked"
    http_status = 409
    title = "User is blocked"

    def default_detail(self) -> str:
        return (
            "This user is Blocked. Only an admin can change a Blocked user's status, "
            "directly on the user's profile in the admin dashboard."
        )


class IdentityFrozen(UserBlocked):
    """A Blocked user's address, userName, externalId, emails, role, password or
    credentials asked to change on a route that may not change them."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        super().__init__(
            f"This user is Blocked, so their {', '.join(fields)} cannot change. Only an admin "
            "can change a Blocked user, directly on the user's profile in the admin dashboard."
        )


class AddressHeld(UserBlocked):
    """An address (in any spelling) that a Blocked user holds, asked for another account."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(
            f"The address {address} belongs to a Blocked user: no other account may take it. "
            "Only an admin can change a Blocked user, directly on the user's profile in the "
            "admin dashboard."
        )


class TransitionNotAllowed(DomainError):
    code = "transition_not_allowed"
    http_status = 409
    title = "Transition not allowed"


class CannotChangeOwnStatus(DomainError):
    code = "cannot_change_own_status"
    http_status = 409
    title = "Cannot change own status"

    def default_detail(self) -> str:
        return "You cannot change your own status. Ask another admin."


class LastOwner(DomainError):
    code = "last_owner"
    http_status = 409
    title = "Last active owner"

    def default_detail(self) -> str:
        return "This is the last active owner of the workspace; they must stay Active."


class SeatLimitReached(DomainError):
    code = "seat_limit_reached"
    http_status = 409
    title = "Seat limit reached"

    def default_detail(self) -> str:
        return "The workspace has no free seat: this change would pass its seat limit."


class ReasonRequired(DomainError):
    code = "reason_required"
    http_status = 422
    title = "Reason required"


class VersionConflict(DomainError):
    code = "version_conflict"
    http_status = 412
    title = "Version conflict"

    def default_detail(self) -> str:
        return "The user changed since you read it. Reload and try again."


class InvalidInput(DomainError):
    code = "validation_error"
    http_status = 422
    title = "Invalid input"


class NotFound(DomainError):
    code = "not_found"
    http_status = 404
    title = "Not found"


class Unauthenticated(DomainError):
    code = "unauthenticated"
    http_status = 401
    title = "Unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"
    http_status = 403
    title = "Forbidden"
