"""Every route and every refusal code has words people use, in one place."""

from roster.domain import errors
from roster.domain.vocabulary import (
    REFUSAL_WORDS,
    ROUTE_WORDS,
    Route,
    outcome_words,
    refusal_words,
    route_words,
)
from roster.services import access, scim, throttle


def _codes(cls: type[errors.DomainError]) -> set[str]:
    found = {cls.code} if "code" in cls.__dict__ and cls is not errors.DomainError else set()
    for sub in cls.__subclasses__():
        found |= _codes(sub)
    return found


def test_every_route_has_words() -> None:
    assert set(ROUTE_WORDS) == set(Route)
    assert route_words(Route.SCIM) == "by SCIM (the identity provider)"
    assert route_words("admin_api") == "by an admin through the API"
    assert route_words("gone_route") == "gone_route"  # an old value stays readable


def test_every_refusal_code_has_words() -> None:
    # access, scim and throttle are imported: their refusals are subclasses the walk finds
    assert {access.PasswordMismatch, scim.Uniqueness, throttle.TooManyAttempts}
    codes = _codes(errors.DomainError)
    assert codes <= set(REFUSAL_WORDS), codes - set(REFUSAL_WORDS)
    assert outcome_words("user_blocked") == "Refused: this user is Blocked"
    assert outcome_words("applied") == "Applied"
    assert refusal_words("some_new_code") == "some new code"
