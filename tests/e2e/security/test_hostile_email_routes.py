"""Two accounts never share one mailbox, whichever route makes them: for any address
and another spelling of it (case, full-width, accents composed or not, surrounding
whitespace, the domain's xn-- form), once the first exists the second is refused by
the API, SCIM and the CLI, found as the same account by a CSV import, and replaces
the same pending invitation. An address that could pass for another one (an
invisible character, Cyrillic or Greek letters in a Latin part) is refused by every
route and changes nothing.
"""

import itertools
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from roster.adapters import tables as t
from roster.domain.emails import normalize_email
from roster.entrypoints.cli.main import app
from tests.e2e.security.hostile_kit import (
    World,
    cli_world,
    hostile,
    refused_as_problem,
    refused_as_scim_error,
    sent,
    snapshot,
    unchanged,
    violation,
)
from tests.unit.test_hostile_emails import INVISIBLE, _fullwidth, same_mailbox

runner = CliRunner()
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
_fresh = itertools.count()


@pytest.fixture(scope="module")
def world(sqlite_url: str) -> Iterator[World]:
    yield from cli_world(sqlite_url)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emails")


def _tagged(pair: tuple[str, str]) -> tuple[str, str]:
    """The pair with a fresh number before its local part (digits belong to no
    script), so every example is a new mailbox."""
    address, variant = pair
    tag = f"{next(_fresh)}-"
    at = variant.index(variant.strip()[0])  # keep leading whitespace where it was
    return f"{tag}{address}", f"{variant[:at]}{tag}{variant[at:]}"


def _users(world: World) -> int:
    with world.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(t.users)
                .where(t.users.c.workspace_id == world.tenant.id)
            ).scalar_one()
        )


def _cli(world: World, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "-w", world.tenant.workspace.slug])
    if result.exception and not isinstance(result.exception, SystemExit):
        violation(f"roster {' '.join(args)} crashed: {result.exception!r}")
    return result.exit_code, result.stderr


@hostile(15)
@given(same_mailbox().map(_tagged))
@example(("0-a@x.example", "  0-A@X.EXAMPLE "))
@example(("0-b@bücher.example", "0-B@xn--bcher-kva.example"))
@example(("0-c@x.example", "\uff10-\uff43@\uff58.example"))  # full-width
def test_the_second_spelling_of_a_mailbox_is_refused_by_every_route(
    world: World, folder: Path, pair: tuple[str, str]
) -> None:
    address, variant = pair
    made = world.client.post(
        "/api/v1/users", json={"email": address, "name": "First"}, headers=world.personal
    )
    assert made.status_code == 201, made.text
    key = made.json()["email"]
    if normalize_email(variant) != key:
        violation(f"{variant!r} normalizes apart from {address!r}")
    count = _users(world)

    before = snapshot(world)
    sent(4)
    r = world.client.post(
        "/api/v1/users", json={"email": variant, "name": "Second"}, headers=world.personal
    )
    refused_as_problem(r, f"API POST {variant!r} after {address!r}")
    r = world.client.post(
        "/scim/v2/Users", json={"schemas": [USER], "userName": variant}, headers=world.scim
    )
    refused_as_scim_error(r, f"SCIM POST {variant!r} after {address!r}")
    if r.status_code != 409 or r.json().get("scimType") != "uniqueness":
        violation(f"SCIM POST {variant!r}: {r.status_code} {r.text[:200]}, not 409 uniqueness")
    r = world.client.post("/api/v1/invitations", json={"email": variant}, headers=world.personal)
    refused_as_problem(r, f"invitation of {variant!r} (an Active user's mailbox)")
    code, err = _cli(world, "users", "add", variant)
    if code == 0:
        violation(f"roster users add {variant!r} made a second account: {err}")
    unchanged(world, before, f"the second spelling {variant!r}")

    # An import finds the same account: it changes it (here: nothing), never adds one.
    sent()
    path = folder / "twin.csv"
    quoted = variant.replace('"', '""')
    path.write_text(f'email,name,role,status\n"{quoted}",Twin,member,active\n', encoding="utf-8")
    code, err = _cli(world, "users", "import", str(path))
    if code != 0 or _users(world) != count:
        violation(f"importing {variant!r} after {address!r}: exit {code}, {err[:200]}")


@hostile(25)
@given(same_mailbox().map(_tagged))
def test_two_spellings_share_one_pending_invitation(world: World, pair: tuple[str, str]) -> None:
    address, variant = pair
    sent(2)
    for spelling in (address, variant):
        r = world.client.post(
            "/api/v1/invitations", json={"email": spelling}, headers=world.personal
        )
        assert r.status_code == 201, r.text
    invitations = t.invitations
    with world.engine.connect() as conn:
        pending = conn.execute(
            select(func.count())
            .select_from(invitations)
            .where(
                invitations.c.workspace_id == world.tenant.id,
                invitations.c.email == normalize_email(address),
                invitations.c.accepted_at.is_(None),
                invitations.c.revoked_at.is_(None),
            )
        ).scalar_one()
    if pending != 1:
        violation(f"{address!r} and {variant!r}: {pending} pending invitations")


@st.composite
def look_alikes(draw: st.DrawFn) -> str:
    """An address made to pass for a Latin one: an invisible character inside it, or
    a Cyrillic or Greek letter among Latin ones."""
    local = "look" + draw(st.text("abcdefghijklmnopqrstuvwxyz", max_size=6))
    address = f"{local}@h.example"
    if draw(st.booleans()):
        at = draw(st.integers(1, len(address) - 1))
        return address[:at] + draw(st.sampled_from(INVISIBLE)) + address[at:]
    at = draw(st.integers(0, len(local) - 1))
    swap = draw(st.sampled_from(["\u0430", "\u043e", "\u0435", "\u03bf", "\u03b9", "\u0440"]))
    return address[:at] + swap + address[at + 1 :]


@hostile(30)
@given(look_alikes())
@example("lo\u200bok@h.example")
@example("p\u0430ypal@h.example")  # Cyrillic a
@example("admin\u202e@h.example")  # right-to-left override
def test_a_look_alike_address_is_refused_by_every_route(
    world: World, folder: Path, spoof: str
) -> None:
    before = snapshot(world)
    shown = ", ".join(
        unicodedata.name(c, f"U+{ord(c):04X}") for c in spoof if not c.isascii() or c < " "
    )
    what = f"{spoof!r} ({shown})"
    sent(5)
    r = world.client.post(
        "/api/v1/users", json={"email": spoof, "name": "Spoof"}, headers=world.personal
    )
    refused_as_problem(r, f"API POST {what}", 422)
    r = world.client.post(
        "/scim/v2/Users", json={"schemas": [USER], "userName": spoof}, headers=world.scim
    )
    refused_as_scim_error(r, f"SCIM POST {what}")
    r = world.client.post("/api/v1/invitations", json={"email": spoof}, headers=world.personal)
    refused_as_problem(r, f"invitation of {what}", 422)
    code, _ = _cli(world, "users", "add", spoof)
    if code == 0:
        violation(f"roster users add {what} made an account")
    path = folder / "spoof.csv"
    path.write_text(f"email,name,role,status\n{spoof},Spoof,member,active\n", encoding="utf-8")
    code, err = _cli(world, "users", "import", str(path))
    if code != 2 or "line 2:" not in err:
        violation(f"importing {what}: exit {code}: {err[:200]}")
    unchanged(world, before, what)


@st.composite
def blocked_look_alikes(draw: st.DrawFn) -> str:
    """A spelling of the Blocked user's address (blocked@h.example): any case, full-width
    letters, invisible characters anywhere, a trailing dot on the domain, padding."""
    chars = [
        _fullwidth(c) if draw(st.integers(0, 3)) == 0 else c.upper() if draw(st.booleans()) else c
        for c in "blocked@h.example" + draw(st.sampled_from(["", "."]))
    ]
    for invisible in draw(st.lists(st.sampled_from(INVISIBLE), max_size=2)):
        chars.insert(draw(st.integers(0, len(chars))), invisible)
    return draw(st.sampled_from(["", " "])) + "".join(chars)


@hostile(20)
@given(blocked_look_alikes())
@example("BLOCKED@H.EXAMPLE.")
@example("blo\u200bcked@h.example")
@example("\uff42\uff4c\uff4f\uff43\uff4b\uff45\uff44@h.example")  # full-width
def test_no_spelling_of_a_blocked_users_address_makes_an_account(
    world: World, folder: Path, spelling: str
) -> None:
    count = _users(world)
    sent(5)
    r = world.client.post(
        "/api/v1/users", json={"email": spelling, "name": "Again"}, headers=world.personal
    )
    refused_as_problem(r, f"API POST {spelling!r} (a Blocked user's address)", 409)
    r = world.client.post(
        "/scim/v2/Users", json={"schemas": [USER], "userName": spelling}, headers=world.scim
    )
    if r.status_code != 409 or r.json().get("scimType") != "uniqueness":
        violation(f"SCIM POST {spelling!r}: {r.status_code} {r.text[:200]}, not 409 uniqueness")
    r = world.client.post("/api/v1/invitations", json={"email": spelling}, headers=world.personal)
    refused_as_problem(r, f"invitation of {spelling!r} (a Blocked user's address)", 409)
    code, _ = _cli(world, "users", "add", spelling)
    if code == 0:
        violation(f"roster users add {spelling!r} made a second account")
    path = folder / "again.csv"
    path.write_text(f"email,name,role,status\n{spelling.strip()},Again,member,active\n")
    _cli(world, "users", "import", str(path))
    if _users(world) != count:
        violation(f"{spelling!r} made an account beside the Blocked user's")
    with world.engine.connect() as conn:
        status = conn.execute(select(t.users.c.status).where(t.users.c.id == world.blocked))
        if status.scalar_one() != "blocked":
            violation(f"{spelling!r} changed the Blocked user's status")
