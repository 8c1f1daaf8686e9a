"""Email addresses as account keys."""

import unicodedata

from roster.domain import errors

MAX_LENGTH = 320
# RFC 5322 specials: outside quotes they delimit addresses, display names and
# comments, so an address holding one would not be one mailbox.
_SPECIALS = frozenset('"(),:;<>[\\]')
# Controls (NUL, CR, LF), format characters (zero-width spaces and joiners, bidi
# overrides, soft hyphen), line and paragraph separators, private use, surrogates,
# unassigned code points: nobody sees or types them in an address.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})
# Default-ignorable characters of other categories (fillers, variation selectors).
_IGNORABLE = frozenset(
    (0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0, *range(0x180B, 0x1810))
) | frozenset((*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)))
# Scripts whose letters pass for one another (Cyrillic U+0430, Greek U+03BF, Latin a, o):
# one part of an address (its local part, each domain label) may use one of them.
_CONFUSABLE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK"})


class LookAlike(errors.InvalidInput):
    """An address that could pass for another: invisible characters or mixed scripts."""


def normalize_email(raw: str) -> str:
    """The one form an email is stored and compared in.

    NFKC and lowercase (repeated until stable) fold full-width letters, compatibility
    characters, composed and decomposed accents and case; surrounding whitespace is
    trimmed; a trailing dot on the domain (its fully qualified spelling) is dropped;
    punycode (xn--) domain labels are read as the Unicode labels they encode. So two
    accounts can never differ only by such a spelling. Addresses that could still
    pass for another one are refused (LookAlike): invisible or control characters
    anywhere, or Latin, Cyrillic and Greek letters mixed in one part. Whatever it
    accepts, `address_key` gives the same string for.
    """
    shown = raw.strip()
    email = _fold(raw).strip()
    _refuse_invisible(email, shown)
    local, sep, domain = email.partition("@")
    labels = domain.removesuffix(".").split(".")
    if (
        not sep
        or not local
        or len(labels) < 2
        or any(not label for label in labels)
        or any(c.isspace() or c in _SPECIALS for c in email)
        or "@" in domain
    ):
        raise errors.InvalidInput(f"{shown!r} is not an email address.")
    labels = [_idn(label, shown) for label in labels]
    for part in (local, *labels):
        _refuse_mixed_scripts(part, shown)
    email = f"{local}@{'.'.join(labels)}"
    if len(email) > MAX_LENGTH:
        raise errors.InvalidInput(f"{shown[:40]!r}… is longer than {MAX_LENGTH} characters.")
    return email


def address_key(raw: str) -> str:
    """The key every route compares an address or a SCIM userName by, whatever it is.

    `normalize_email`'s folding (case, NFKC, a trailing dot on the domain, xn--
    labels), but never a refusal: invisible characters are dropped rather than
    refused, so a look-alike of a taken address finds the account it imitates (a
    Blocked user's address stays theirs however it is spelled). For any text
    `normalize_email` accepts, the key is the normalized address itself, so keys
    are looked up in the stored (normalized) email column.
    """
    if raw.isascii() and raw.isprintable():  # most addresses: NFKC changes no such text
        folded = raw.lower().strip()
    else:
        folded = _visible(_fold(_visible(raw))).strip()
    local, sep, domain = folded.partition("@")
    if not sep:
        return folded
    domain = domain.removesuffix(".")
    if "xn--" in domain:
        domain = ".".join(_idn_or_kept(label) for label in domain.split("."))
    return f"{local}@{domain}"


def _visible(text: str) -> str:
    return "".join(c for c in text if not _invisible(c))


def _invisible(c: str) -> bool:
    return unicodedata.category(c) in _INVISIBLE_CATEGORIES or ord(c) in _IGNORABLE


def _idn_or_kept(label: str) -> str:
    try:
        return _idn(label, label)
    except errors.InvalidInput:
        return label


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text)
    for _ in range(4):  # lowercasing can un-normalize (İ → i̇); a few rounds settle it
        # Capital sigma lowercases to final sigma at a word's end: one letter, one key.
        again = unicodedata.normalize("NFKC", folded.lower().replace("\u03c2", "\u03c3"))
        if again == folded:
            break
        folded = again
    return folded


def _refuse_invisible(email: str, shown: str) -> None:
    for c in email:
        if _invisible(c):
            raise LookAlike(
                f"{shown!r} is not an email address: it holds an invisible or control "
                f"character (U+{ord(c):04X})."
            )


def _idn(label: str, shown: str) -> str:
    """A domain label as Unicode: `xn--bcher-kva` is `bücher`, one mailbox's domain."""
    if not label.startswith("xn--"):
        return label
    try:
        decoded = _fold(label[4:].encode("ascii").decode("punycode"))
    except (UnicodeError, ValueError):
        raise errors.InvalidInput(f"{shown!r} is not an email address: bad xn-- label.") from None
    if not decoded or decoded.startswith("xn--") or "." in decoded or "@" in decoded:
        raise errors.InvalidInput(f"{shown!r} is not an email address: bad xn-- label.")
    _refuse_invisible(decoded, shown)
    if any(c.isspace() or c in _SPECIALS for c in decoded):
        raise errors.InvalidInput(f"{shown!r} is not an email address: bad xn-- label.")
    return decoded


def _refuse_mixed_scripts(part: str, shown: str) -> None:
    scripts = {
        unicodedata.name(c, "?").split(" ", 1)[0] for c in part if unicodedata.category(c)[0] == "L"
    }
    mixed = " and ".join(s.title() for s in sorted(scripts & _CONFUSABLE_SCRIPTS))
    if " and " in mixed:
        raise LookAlike(
            f"{shown!r} is not an email address: {part!r} mixes {mixed} letters, "
            "so it could pass for another address."
        )
