# ruff: noqa: RUF001  (look-alike characters are the point here)
"""`roster users import` under hostile files: a good file with one row (or the
header) broken in one of many ways, and random text. The command exits 2 with a
plain sentence naming the line, and writes nothing; a good file still imports.
"""

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from typer.testing import CliRunner

from roster.entrypoints.cli.main import app
from tests.e2e.security.hostile_kit import (
    World,
    cli_world,
    hostile,
    sent,
    snapshot,
    unchanged,
    violation,
)

runner = CliRunner()
HEADER = "email,name,role,status"
_fresh = itertools.count()


@pytest.fixture(scope="module")
def world(sqlite_url: str) -> Iterator[World]:
    yield from cli_world(sqlite_url)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("imports")


def _rows(n: int) -> list[str]:
    batch = next(_fresh)
    return [f"csv{batch}-{i}@h.example,Person {i},member,active" for i in range(n)]


def _import(world: World, folder: Path, content: bytes) -> tuple[int, str]:
    path = folder / "people.csv"
    path.write_bytes(content)
    result = runner.invoke(
        app, ["users", "import", str(path), "-w", world.tenant.workspace.slug, "--json"]
    )
    if result.exception and not isinstance(result.exception, SystemExit):
        violation(f"the import crashed: {result.exception!r}")
    return result.exit_code, result.stderr


# One broken row: what goes in its place. The row is line (index + 2) of the file.
BAD_ROWS = {
    "too many fields": "{email},Name,member,active,extra",
    "too few fields": "{email},Name",
    "only an email": "{email}",
    "NUL in the name": "{email},Na\x00me,member,active",
    "NUL in the email": "{email}\x00,Name,member,active",
    "a CR in the name": '{email},"Na\rme",member,active',
    "a name over 200 characters": "{email}," + "n" * 201 + ",member,active",
    "a field over csv's limit": "{email}," + "n" * 140_000 + ",member,active",
    "a quoted field over csv's limit": '{email},"' + "n" * 140_000 + '",member,active',
    "a note over 2000 characters": "{email},Name,member,active,,",  # header gets note below
    "no email": ",Name,member,active",
    "not an email": "not-an-email,Name,member,active",
    "a zero-width space": "zero\u200bwidth@h.example,Name,member,active",
    "a BOM inside": "\ufeffbom@h.example,Name,member,active",
    "Cyrillic in Latin": "pаypal@h.example,Name,member,active",
    "Greek in Latin": "tοm@h.example,Name,member,active",
    "a bidi override": "ann\u202egro.elpmaxe@h.example,Name,member,active",
    "an unknown role": "{email},Name,emperor,active",
    "an unknown status": "{email},Name,member,asleep",
    "a formula as the status": "{email},Name,member,=1+1",
    "an unknown reason": "{email},Name,member,blocked,=cmd",
    "the same mailbox twice": "{twin},Name,member,active",
}
BAD_HEADERS = {
    "no header": "",
    "a missing column": "email,role,status",  # role and status may be left out; name not
    "an unknown column": "email,name,role,status,password",
    "a column named twice": "email,name,role,status,email",
    "a formula column": "email,name,role,status,=cmd",
    "a NUL in the header": "email,name\x00,role,status",
}


def _full_width(email: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in email)


TWINS: dict[str, Callable[[str], str]] = {
    "padded": "  {}".format,
    "upper case": str.upper,
    "full-width": _full_width,
    "a trailing tab": '"{}\t"'.format,
}


@hostile(80)
@given(
    st.sampled_from(sorted(BAD_ROWS)),
    st.integers(0, 4),
    st.sampled_from(sorted(TWINS)),
    st.booleans(),
)
@example("a field over csv's limit", 2, "padded", False)  # was a crash (csv.Error)
@example("NUL in the name", 0, "padded", False)  # was a 500 on PostgreSQL
@example("too few fields", 1, "padded", True)  # was imported with defaults
@example("the same mailbox twice", 3, "full-width", True)
def test_a_file_with_one_bad_row_names_its_line_and_writes_nothing(
    world: World, folder: Path, kind: str, at: int, twin: str, bom: bool
) -> None:
    rows = _rows(5)
    header = HEADER + (
        ",reason,note" if kind in ("an unknown reason", "a note over 2000 characters") else ""
    )
    if header != HEADER:
        rows = [r + ",," for r in rows]
    email = f"fresh{next(_fresh)}@h.example"
    bad = BAD_ROWS[kind].format(email=email, twin=TWINS[twin](rows[0].split(",")[0]))
    if kind == "a note over 2000 characters":
        bad = f"{email},Name,member,active,," + "n" * 2001
    if kind == "the same mailbox twice":
        at = max(at, 1)  # after the row it repeats
    rows[at] = bad
    text = ("\ufeff" if bom else "") + "\n".join([header, *rows]) + "\n"
    before = snapshot(world)
    sent()
    code, err = _import(world, folder, text.encode())
    what = f"{kind} at line {at + 2}"
    if code != 2:
        violation(f"{what}: exit {code}, not 2: {err[:300]}")
    # A quoted field with a line break in it (a CR, read as one) ends a line later.
    lines = (at + 2, at + 3) if kind == "a CR in the name" else (at + 2,)
    if not any(f"line {n}:" in err for n in lines):
        violation(f"{what}: the message does not name line {at + 2}: {err[:300]}")
    unchanged(world, before, what)


@hostile(40)
@given(st.sampled_from(sorted(BAD_HEADERS)))
def test_a_bad_header_is_line_1_and_writes_nothing(world: World, folder: Path, kind: str) -> None:
    text = "\n".join([BAD_HEADERS[kind], *_rows(3)]) + "\n"
    before = snapshot(world)
    sent()
    code, err = _import(world, folder, text.encode())
    if code != 2 or "line 1:" not in err:
        violation(f"{kind}: exit {code} without naming line 1: {err[:300]}")
    unchanged(world, before, kind)


@hostile(80)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
@example(b"\xff\xfe\x00e\x00m")  # UTF-16
@example(b'email,name,role,status\n"unterminated,x,member,active\n')
@example(b"email,name,role,status\r\n\r\n\r\n")
def test_random_bytes_are_refused_plainly_or_imported(
    world: World, folder: Path, content: bytes
) -> None:
    before = snapshot(world)
    sent()
    code, err = _import(world, folder, content)
    if code not in (0, 2):
        violation(f"{content[:80]!r}: exit {code}: {err[:300]}")
    if code == 2:
        if "Traceback" in err or not err.strip():
            violation(f"{content[:80]!r}: no plain sentence: {err[:300]}")
        unchanged(world, before, repr(content[:80]))


def test_a_good_file_with_a_bom_and_formula_like_names_imports(world: World, folder: Path) -> None:
    """A BOM is how spreadsheets save UTF-8; names that start like formulas are
    people's names, kept as written (every CSV export defuses them)."""
    batch = next(_fresh)
    names = ["=HYPERLINK(1)", "+Plus", "-Minus", "@At"]
    rows = [f"f{batch}-{i}@h.example,{n},member,active" for i, n in enumerate(names)]
    sent(len(rows))
    code, err = _import(world, folder, ("\ufeff" + "\n".join([HEADER, *rows]) + "\n").encode())
    assert code == 0, err
    listed = world.client.get(
        "/api/v1/users", params={"q": f"f{batch}-", "limit": 10}, headers=world.personal
    ).json()["items"]
    assert sorted(u["name"] for u in listed) == sorted(names)
