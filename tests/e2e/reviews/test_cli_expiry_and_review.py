"""`roster users add/set --expires`, `set-status --review-by`, `users review` and
the import's expires_at column, on both databases."""

import secrets
from pathlib import Path

import pytest

from tests.e2e.test_cli import make_workspace, roster, run, show

pytestmark = pytest.mark.usefixtures("roster")
__all__ = ["roster"]  # the fixture, imported to be used here


def _slug() -> str:
    return f"cli-{secrets.token_hex(4)}"


def test_an_operator_gives_an_account_an_end_and_takes_it_away() -> None:
    slug = _slug()
    make_workspace(slug)
    code, _, err = run("users", "add", "kim@x.example", "-w", slug, "--expires", "2031-05-01")
    assert code == 0, err
    assert show(slug, "kim@x.example")["expires_at"] == "2031-05-01T00:00:00+00:00"
    assert run("users", "set", "kim@x.example", "-w", slug, "--expires", "never")[0] == 0
    assert show(slug, "kim@x.example")["expires_at"] is None


def test_a_date_the_cli_cannot_read_is_a_plain_sentence_and_exit_code_2() -> None:
    slug = _slug()
    make_workspace(slug)
    code, _, err = run("users", "add", "lee@x.example", "-w", slug, "--expires", "soon")
    assert code == 2
    assert "'soon' is not a date" in err
    assert run("users", "show", "lee@x.example", "-w", slug)[0] == 2  # not created


def test_an_operator_blocks_with_a_review_date_and_records_a_review() -> None:
    slug = _slug()
    make_workspace(slug)
    run("users", "add", "max@x.example", "-w", slug)
    code, _, err = run(
        "users", "set-status", "max@x.example", "blocked", "-w", slug,
        "--reason", "needs_review", "--review-by", "2031-01-10",
    )  # fmt: skip
    assert code == 0, err
    assert show(slug, "max@x.example")["review_by"] == "2031-01-10"
    code, out, err = run(
        "users", "review", "max@x.example", "-w", slug, "--until", "2031-02-01",
        "--note", "Waiting on legal",
    )  # fmt: skip
    assert code == 0, err
    assert "stays Blocked until 2031-02-01" in out
    assert show(slug, "max@x.example")["review_by"] == "2031-02-01"


def test_an_import_sets_expiry_on_new_and_existing_users(tmp_path: Path) -> None:
    slug = _slug()
    make_workspace(slug)
    run("users", "add", "old@x.example", "-w", slug)
    csv = tmp_path / "users.csv"
    csv.write_text(
        "email,name,role,status,expires_at\n"
        "old@x.example,Old,member,active,2032-01-01\n"
        "new@x.example,New,member,active,2032-02-01T12:00:00Z\n"
    )
    code, _, err = run("users", "import", str(csv), "-w", slug)
    assert code == 0, err
    assert show(slug, "old@x.example")["expires_at"] == "2032-01-01T00:00:00+00:00"
    assert show(slug, "new@x.example")["expires_at"] == "2032-02-01T12:00:00+00:00"
    bad = tmp_path / "bad.csv"
    bad.write_text("email,name,role,status,expires_at\nx@x.example,X,member,active,someday\n")
    code, _, err = run("users", "import", str(bad), "-w", slug)
    assert code == 2
    assert "line 2: expires_at 'someday' is not a date" in err
