"""The `roster` command line, end to end on both databases."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from roster.config import get_settings
from roster.entrypoints.cli import common
from roster.entrypoints.cli.main import app

runner = CliRunner()


@pytest.fixture
def roster(database_url: str, engine: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ROSTER_DATABASE_URL", database_url)
    get_settings.cache_clear()
    common.container.cache_clear()
    yield
    common.container().engine.dispose()
    get_settings.cache_clear()
    common.container.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def make_workspace(slug: str) -> None:
    code, out, err = run("workspaces", "create", slug, "--owner-email", f"boss@{slug}.example")
    assert code == 0, err
    assert f"Created workspace {slug}" in out


def show(slug: str, email: str) -> dict[str, object]:
    code, out, err = run("users", "show", email, "--workspace", slug, "--json")
    assert code == 0, err
    data: dict[str, object] = json.loads(out)
    return data


@pytest.mark.usefixtures("roster")
def test_an_operator_blocks_and_unblocks_a_user() -> None:
    make_workspace("cli-block")
    assert run("users", "add", "ann@x.example", "-w", "cli-block", "--name", "Ann")[0] == 0
    code, _, err = run("users", "set-status", "ann@x.example", "blocked", "-w", "cli-block")
    assert code == 1
    assert "Blocking a user needs a reason code" in err
    code, out, _ = run(
        "users",
        "set-status",
        "ann@x.example",
        "blocked",
        "-w",
        "cli-block",
        "--reason",
        "access_violation",
        "--note",
        "shared password",
    )
    assert code == 0
    assert "ann@x.example is now blocked" in out
    user = show("cli-block", "ann@x.example")
    assert (user["status"], user["status_reason"]) == ("blocked", "access_violation")
    code, out, _ = run(
        "users", "set-status", "ann@x.example", "active", "-w", "cli-block", "--note", "reviewed"
    )
    assert code == 0
    history = show("cli-block", "ann@x.example")["history"]
    assert isinstance(history, list)
    assert [(h["to"], h["outcome"]) for h in history] == [
        ("active", "applied"),
        ("blocked", "reason_required"),
        ("blocked", "applied"),
        ("active", "applied"),
    ]


@pytest.mark.usefixtures("roster")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["users", "set-status", "ann@x.example", "asleep", "-w", "cli-bad"], "asleep"),
        (
            ["users", "set-status", "ann@x.example", "active", "-w", "nowhere"],
            "There is no workspace 'nowhere'",
        ),
        (
            ["users", "set-status", "nobody@x.example", "active", "-w", "cli-bad"],
            "There is no user 'nobody@x.example'",
        ),
        (["users", "add", "not-an-email", "-w", "cli-bad"], "is not an email address"),
        (["users", "export", "-w", "cli-bad", "--format", "xml"], "'xml' is not a format"),
    ],
)
def test_bad_input_says_what_is_wrong_exits_2_and_changes_nothing(
    args: list[str], message: str
) -> None:
    if run("users", "list", "-w", "cli-bad")[0] != 0:
        make_workspace("cli-bad")
        run("users", "add", "ann@x.example", "-w", "cli-bad")
    before = show("cli-bad", "ann@x.example")
    code, _, err = run(*args)
    assert code == 2
    assert message in err
    assert show("cli-bad", "ann@x.example") == before


@pytest.mark.usefixtures("roster")
def test_import_applies_good_rows_and_refuses_a_blocked_users_activation(tmp_path: Path) -> None:
    make_workspace("cli-import")
    run(
        "users",
        "add",
        "kept@x.example",
        "-w",
        "cli-import",
        "--status",
        "blocked",
        "--reason",
        "payment_dispute",
    )
    run("users", "add", "back@x.example", "-w", "cli-import", "--status", "inactive")
    csv = tmp_path / "people.csv"
    csv.write_text(
        "email,name,role,status\n"
        "kept@x.example,Kept,member,active\n"
        "back@x.example,Back,member,active\n"
        "New@X.example,New Person,admin,active\n"
    )
    code, out, err = run("users", "import", str(csv), "-w", "cli-import", "--json")
    assert code == 1, err  # a row refused by the rules
    report = json.loads(out)
    assert (report["created"], report["applied"]) == (1, 1)
    assert report["refused"] == [{"line": 2, "email": "kept@x.example", "code": "user_blocked"}]
    assert show("cli-import", "kept@x.example")["status"] == "blocked"
    assert show("cli-import", "back@x.example")["status"] == "active"
    assert show("cli-import", "new@x.example")["role"] == "admin"


@pytest.mark.usefixtures("roster")
def test_a_malformed_import_names_its_lines_and_writes_nothing(tmp_path: Path) -> None:
    make_workspace("cli-malformed")
    csv = tmp_path / "bad.csv"
    csv.write_text(
        "email,name,role,status\n"
        "fine@x.example,Fine,member,active\n"
        "broken,Broken,member,active\n"
        "odd@x.example,Odd,member,asleep\n"
    )
    code, _, err = run("users", "import", str(csv), "-w", "cli-malformed")
    assert code == 2
    assert "line 3: 'broken' is not an email address" in err
    assert "line 4: 'asleep' is not a status" in err
    code, out, _ = run("users", "list", "-w", "cli-malformed", "--json")
    assert [u["email"] for u in json.loads(out)] == ["boss@cli-malformed.example"]


@pytest.mark.usefixtures("roster")
def test_a_file_without_the_header_is_refused(tmp_path: Path) -> None:
    make_workspace("cli-header")
    csv = tmp_path / "noheader.csv"
    csv.write_text("a@x.example,A,member,active\n")
    code, _, err = run("users", "import", str(csv), "-w", "cli-header")
    assert code == 2
    assert "the header must name email, name" in err


@pytest.mark.usefixtures("roster")
def test_export_lists_every_user_and_defuses_formulas() -> None:
    make_workspace("cli-export")
    run("users", "add", "f@x.example", "-w", "cli-export", "--name", "=HYPERLINK(1)")
    code, out, _ = run("users", "export", "-w", "cli-export")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith("id,email,name,role,status")
    assert len(lines) == 3
    assert ",'=HYPERLINK(1)," in out


def test_roster_init_demo_seeds_once_and_prints_the_sign_in(tmp_path: Path) -> None:
    """The real executable, as `make run` calls it."""
    env = {
        "ROSTER_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "ROSTER_PORT": "8765",  # the port `roster serve` will use: the one printed
        "PATH": "/usr/bin:/bin",
    }
    exe = str(Path(sys.executable).with_name("roster"))
    first = subprocess.run(
        [exe, "init", "--demo"], env=env, capture_output=True, text=True, check=True
    )
    assert "Sign in at http://127.0.0.1:8765/admin" in first.stdout
    assert "email:     owner@demo.example" in first.stdout
    assert "password:  roster-demo-owner" in first.stdout
    second = subprocess.run(
        [exe, "init", "--demo"], env=env, capture_output=True, text=True, check=True
    )
    assert 'Found workspace "demo"' in second.stdout
    listing = subprocess.run(
        [exe, "users", "list", "-w", "demo", "--json", "--limit", "5000"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    people = json.loads(listing.stdout)
    assert len(people) == 1001
    assert {p["status"] for p in people} == {"active", "inactive", "blocked"}
