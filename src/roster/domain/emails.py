"""Email addresses as account keys."""

import unicodedata

from roster.domain import errors


def normalize_email(raw: str) -> str:
    """The one form an email is stored and compared in: NFKC, trimmed, lowercased.

    NFKC folds look-alike compatibility characters (full-width letters and the
    like), so two accounts can never differ only by such a character or by case.
    """
    email = unicodedata.normalize("NFKC", raw).strip().lower()
    local, sep, domain = email.partition("@")
    if (
        not sep
        or not local
        or "." not in domain
        or any(c.isspace() for c in email)
        or len(email) > 320
        or "@" in domain
    ):
        raise errors.InvalidInput(f"{raw.strip()!r} is not an email address.")
    return email
