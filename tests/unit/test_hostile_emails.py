# ruff: noqa: RUF001  (look-alike characters are the point here)
"""Email normalization under hostile spellings: every spelling of one mailbox folds to
one key, and an address that could pass for another one is refused.

Bounded and repeatable (derandomize, no example database); ROSTER_HOSTILE_SCALE
multiplies the examples.
"""

import os
import unicodedata

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from roster.domain import errors
from roster.domain.emails import LookAlike, address_key, normalize_email
from tests import tally

SCALE = max(1, int(os.environ.get("ROSTER_HOSTILE_SCALE", "1")))


def hostile(examples: int) -> settings:
    return settings(
        max_examples=examples * SCALE,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


def counted(violated: bool, message: str) -> None:
    tally.add(hostile=1)
    if violated:
        tally.add(violations=1)
        pytest.fail(message)


# Letters a part of an address is made of: ASCII, accented Latin, or one other script.
LATIN = "abcdefghijklmnopqrstuvwxyzáéíóúüñçøßœ"
CYRILLIC = "абвгдежзийклмнопрстуфхцчшщэюя"
GREEK = "αβγδεζηθικλμνξοπρστυφχψω"
DIGITS = "0123456789"


def _part(letters: str) -> st.SearchStrategy[str]:
    return st.text(letters + DIGITS, min_size=1, max_size=12).filter(
        lambda s: any(c.isalpha() for c in s)
    )


def _address(script: str) -> st.SearchStrategy[str]:
    local = _part(script) | st.builds("{}.{}".format, _part(script), _part(script))
    domain = st.lists(_part(script), min_size=1, max_size=2).map(".".join)
    return st.builds("{}@{}.{}".format, local, domain, st.sampled_from(["example", "org"]))


addresses = _address(LATIN) | _address(CYRILLIC) | _address(GREEK)

# Invisible characters: zero-width space, non-joiner, joiner, word joiner, BOM, soft
# hyphen, bidi override, NUL, a variation selector, the Hangul filler.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u202e\x00\ufe0f\u3164"
# Cyrillic and Greek letters that pass for Latin ones.
CONFUSABLE = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "i": "і", "y": "у"}
CONFUSABLE_GREEK = {"o": "ο", "i": "ι", "k": "κ", "v": "ν", "t": "τ"}
SPACES = [" ", "\t", "\n", "\u00a0", "\u3000", "\u2003"]


def _fullwidth(c: str) -> str:
    return chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c


def _idn(domain: str) -> str:
    return ".".join(
        "xn--" + label.encode("punycode").decode() if not label.isascii() else label
        for label in domain.split(".")
    )


@st.composite
def same_mailbox(draw: st.DrawFn) -> tuple[str, str]:
    """An address and another spelling of the same mailbox."""
    address = draw(addresses)
    chars = list(address)
    for i, c in enumerate(chars):
        if draw(st.booleans()):
            chars[i] = c.upper() if c.upper() != "SS" else c
        if draw(st.integers(0, 3)) == 0:
            chars[i] = _fullwidth(chars[i])
    variant = "".join(chars)
    if draw(st.booleans()):  # the domain as its A-label (xn--) spelling
        at = address.index("@")
        variant = f"{variant[:at]}@{_idn(normalize_email(address).split('@')[1])}"
    if draw(st.booleans()):
        variant = unicodedata.normalize("NFD", variant)
    pad = st.text(st.sampled_from(SPACES), max_size=3)
    return address, draw(pad) + variant + draw(pad)


@hostile(200)
@given(same_mailbox())
@example(("alice@x.example", "  ALICE@X.EXAMPLE\t"))
@example(("alice@x.example", "ａｌｉｃｅ@ｘ.ｅｘａｍｐｌｅ"))  # full-width
@example(("josé@x.example", "jose\u0301@x.example"))  # combining acute
@example(("anna@bücher.example", "anna@xn--bcher-kva.example"))  # IDN A-label
@example(("kelvin@x.example", "\u212aelvin@x.example"))  # KELVIN SIGN
@example(("ασ@α.org", "αΣ＠α．ｏｒｇ"))  # Σ at a word's end lowercases to ς
def test_every_spelling_of_one_mailbox_folds_to_one_key(pair: tuple[str, str]) -> None:
    address, variant = pair
    counted(
        normalize_email(variant) != normalize_email(address),
        f"{variant!r} and {address!r} name one mailbox but normalize apart",
    )


@hostile(200)
@given(addresses, st.sampled_from(INVISIBLE), st.data())
@example("alice@x.example", "\u200b", None)
def test_an_invisible_character_anywhere_is_refused(
    address: str, invisible: str, data: st.DataObject | None
) -> None:
    at = data.draw(st.integers(1, len(address) - 1)) if data else 2
    spoof = address[:at] + invisible + address[at:]
    with pytest.raises(LookAlike):
        normalize_email(spoof)
    tally.add(hostile=1)


@hostile(200)
@given(_address("abcdefghijklmnopqrstuvwxyz"), st.data())
@example("paypal@x.example", None)
def test_a_latin_part_with_a_cyrillic_or_greek_look_alike_is_refused(
    address: str, data: st.DataObject | None
) -> None:
    local, _, domain = address.partition("@")
    table = data.draw(st.sampled_from([CONFUSABLE, CONFUSABLE_GREEK])) if data else CONFUSABLE
    spots = [
        (part, i)
        for part, text in (("local", local), ("domain", domain))
        for i, c in enumerate(text)
        if c in table and sum(ch.isalpha() for ch in text.split(".")[0]) > 1
    ]
    if not spots:
        tally.add(hostile=1)
        return
    part, i = data.draw(st.sampled_from(spots)) if data else spots[0]
    text = local if part == "local" else domain
    # Only swap inside a part (label) that keeps another Latin letter.
    label_start = text.rfind(".", 0, i) + 1
    label_end = len(text) if text.find(".", i) < 0 else text.find(".", i)
    label = text[label_start:label_end]
    if sum(c.isalpha() for c in label) < 2:
        tally.add(hostile=1)
        return
    swapped = text[:i] + table[text[i]] + text[i + 1 :]
    spoof = f"{swapped}@{domain}" if part == "local" else f"{local}@{swapped}"
    with pytest.raises(LookAlike):
        normalize_email(spoof)
    tally.add(hostile=1)


@hostile(300)
@given(st.text(max_size=60) | st.builds("{}@{}".format, st.text(max_size=20), st.text(max_size=20)))
@example("a@b.c\x00")
@example("a@xn--zzzzzzz-.example")
@example("a@xn--.example")
@example("İ@x.example")  # lowercases to i + combining dot: must still be stable
@example("a@x.example.")
@example('"a b"@x.example')
@example("a,b@x.example")
@example("a@[127.0.0.1]")
def test_any_text_is_an_address_in_one_stable_form_or_a_clear_refusal(raw: str) -> None:
    tally.add(hostile=1)
    try:
        key = normalize_email(raw)
    except errors.InvalidInput as refused:
        counted("\x00" in refused.detail, f"the refusal of {raw!r} echoes a raw NUL")
        return
    again = normalize_email(key)
    local, _, domain = key.partition("@")
    broken = [
        again != key and "not idempotent",
        key != key.strip() and "surrounding whitespace kept",
        any(c.isspace() for c in key) and "whitespace inside",
        any(unicodedata.category(c)[0] == "C" for c in key) and "control or format character",
        key.count("@") != 1 and "not exactly one @",
        (not local or "" in domain.split(".") or "." not in domain) and "empty part",
        len(key) > 320 and "over 320 characters",
        (domain.startswith("xn--") or ".xn--" in domain) and "punycode kept",
    ]
    problems = [b for b in broken if b]
    counted(bool(problems), f"{raw!r} normalized to {key!r}: {problems}")


@hostile(200)
@given(same_mailbox())
@example(("blk5@example.com", "blk5@EXAMPLE.com"))
@example(("blk5@example.com", "  BLK5@Example.COM  "))
def test_a_trailing_dot_on_the_domain_is_the_same_mailbox(pair: tuple[str, str]) -> None:
    address, variant = pair
    dotted = variant.rstrip() + "."
    counted(
        normalize_email(dotted) != normalize_email(address),
        f"{dotted!r} and {address!r} name one mailbox but normalize apart",
    )


@hostile(300)
@given(st.text(max_size=60) | st.builds("{}@{}".format, st.text(max_size=20), st.text(max_size=20)))
@example("blk5@EXAMPLE.com.")
@example("a@xn--bcher-kva.example")
@example("İ@x.example")
def test_the_key_of_an_accepted_address_is_the_address_itself(raw: str) -> None:
    """Every route looks a key up in the stored (normalized) email column, so for
    whatever normalize_email accepts the two must agree."""
    tally.add(hostile=1)
    try:
        email = normalize_email(raw)
    except errors.InvalidInput:
        return
    counted(address_key(raw) != email, f"{raw!r}: key {address_key(raw)!r}, email {email!r}")


@hostile(300)
@given(same_mailbox(), st.lists(st.sampled_from(INVISIBLE), min_size=1, max_size=3), st.data())
@example(("blk@example.com", "BLK@example.com."), ["\u200b"], None)
def test_every_look_alike_of_an_address_finds_it_by_its_key(
    pair: tuple[str, str], invisible: list[str], data: st.DataObject | None
) -> None:
    """Invisible characters anywhere, another case, full-width letters, a trailing
    dot: the key is the address's own, so a Blocked user's address is found however
    a new account spells it."""
    address, variant = pair
    chars = list(variant.strip() + (data.draw(st.sampled_from(["", "."])) if data else ""))
    for c in invisible:
        at = data.draw(st.integers(0, len(chars))) if data else 1
        chars.insert(at, c)
    spoof = "".join(chars)
    counted(
        address_key(spoof) != normalize_email(address),
        f"{spoof!r} keys to {address_key(spoof)!r}, not {normalize_email(address)!r}",
    )
