"""`roster users export` into `roster users import`, and the exit codes and refusal
reports of the many-user commands (`users import`, `bulk set-status`), on both
databases."""

import csv
import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import make_workspace, roster, run, show

__all__ = ["roster"]  # the fixture: the command line on the test's database

pytestmark = pytest.mark.usefixtures("roster")


def people(slug: str) -> set[tuple[object, ...]]:
    code, out, err = run("users", "list", "-w", slug, "--json")
    assert code == 0, err
    return {
        (u["email"], u["name"], u["role"], u["status"], u["status_reason"], u["status_note"])
        for u in json.loads(out)
        if not u["email"].startswith("boss@")
    }


def add(slug: str, email: str, *args: str) -> None:
    code, _, err = run("users", "add", email, "-w", slug, *args)
    assert code == 0, err


def export(slug: str, path: Path) -> Path:
    code, out, err = run("users", "export", "-w", slug)
    assert code == 0, err
    path.write_text(out)
    return path


def test_an_export_imports_into_another_workspace_with_the_same_users(tmp_path: Path) -> None:
    make_workspace("rt-from")
    add("rt-from", "ann@x.example", "--name", "Ann Lee", "--role", "admin")
    add("rt-from", "bob@x.example", "--name", "Bob", "--status", "inactive", "--note", "left")
    add(
        "rt-from",
        "cat@x.example",
        "--name",
        "Cat, the Third",
        "--status",
        "blocked",
        "--reason",
        "payment_dispute",
        "--note",
        "card declined",
    )
    exported = export("rt-from", tmp_path / "users.csv")
    make_workspace("rt-to")
    code, out, err = run("users", "import", str(exported), "-w", "rt-to")
    assert code == 0, err
    assert "Imported 4 row(s): 4 created" in out
    assert people("rt-to") - {("boss@rt-from.example", "boss", "owner", "active", None, None)} == (
        people("rt-from")
    )
    blocked = show("rt-to", "cat@x.example")
    assert (blocked["status"], blocked["status_reason"]) == ("blocked", "payment_dispute")
    assert blocked["review_by"] is not None  # a Blocked user always has a review date


def test_an_export_imported_again_changes_nothing_and_leaves_the_block(tmp_path: Path) -> None:
    make_workspace("rt-same")
    add("rt-same", "dan@x.example", "--status", "blocked", "--reason", "access_violation")
    exported = export("rt-same", tmp_path / "same.csv")
    code, out, err = run("users", "import", str(exported), "-w", "rt-same")
    assert code == 0, err
    assert "0 created, 0 changed, 2 unchanged, 0 refused" in out
    assert show("rt-same", "dan@x.example")["status"] == "blocked"


def test_role_and_status_default_to_member_and_active_when_the_file_has_no_such_column(
    tmp_path: Path,
) -> None:
    make_workspace("rt-short")
    file = tmp_path / "short.csv"
    file.write_text("email,name\neve@x.example,Eve\n")
    code, _, err = run("users", "import", str(file), "-w", "rt-short")
    assert code == 0, err
    eve = show("rt-short", "eve@x.example")
    assert (eve["role"], eve["status"]) == ("member", "active")


def test_a_column_neither_import_nor_export_knows_is_still_bad_input(tmp_path: Path) -> None:
    make_workspace("rt-typo")
    file = tmp_path / "typo.csv"
    file.write_text("email,name,stauts\nfay@x.example,Fay,inactive\n")
    code, _, err = run("users", "import", str(file), "-w", "rt-typo")
    assert code == 2
    assert "unknown column(s) 'stauts'" in err
    assert people("rt-typo") == set()


def blocked_users(slug: str, count: int) -> None:
    for i in range(count):
        add(slug, f"b{i:02}@x.example", "--status", "blocked", "--reason", "needs_review")


def report_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_import_exits_0_when_every_row_applied_1_when_any_was_refused(tmp_path: Path) -> None:
    make_workspace("ex-import")
    blocked_users("ex-import", 25)
    file = tmp_path / "all.csv"
    file.write_text(
        "email,name,status\n"
        + "".join(f"b{i:02}@x.example,B {i},active\n" for i in range(25))
        + "new@x.example,New,active\n"
    )
    report = tmp_path / "refused.csv"
    code, out, _ = run("users", "import", str(file), "-w", "ex-import", "--report", str(report))
    assert code == 1
    assert "1 created, 0 changed, 0 unchanged, 25 refused" in out
    assert "row 2: b00@x.example refused: This user is Blocked." in out
    assert "b19@x.example" in out
    assert "b20@x.example" not in out
    assert "… and 5 more" in out
    rows = report_rows(report)
    assert [r["row"] for r in rows] == [str(line) for line in range(2, 27)]
    assert rows[0]["email"] == "b00@x.example"
    assert {r["code"] for r in rows} == {"user_blocked"}
    assert rows[0]["reason"].startswith("This user is Blocked.")
    file.write_text("email,name,status\nnew@x.example,New,inactive\n")
    code, out, err = run("users", "import", str(file), "-w", "ex-import")
    assert code == 0, err
    assert show("ex-import", "new@x.example")["status"] == "inactive"


def test_import_exits_2_on_bad_input_changes_nothing_and_writes_no_report(tmp_path: Path) -> None:
    make_workspace("ex-bad")
    file = tmp_path / "bad.csv"
    file.write_text("email,name\nok@x.example,Ok\nok@x.example,Again\nbroken,Broken\n")
    report = tmp_path / "refused.csv"
    code, _, err = run("users", "import", str(file), "-w", "ex-bad", "--report", str(report))
    assert code == 2
    assert "line 3: ok@x.example appears twice in the file" in err
    assert "line 4: 'broken' is not an email address" in err
    assert people("ex-bad") == set()
    assert not report.exists()


def test_bulk_set_status_exits_0_1_and_2_and_reports_every_refusal(tmp_path: Path) -> None:
    make_workspace("ex-bulk")
    blocked_users("ex-bulk", 22)
    add("ex-bulk", "quiet@x.example", "--role", "member")
    code, out, err = run("bulk", "set-status", "inactive", "-w", "ex-bulk", "-f", "q=quiet")
    assert code == 0, err
    assert show("ex-bulk", "quiet@x.example")["status"] == "inactive"

    report = tmp_path / "bulk.csv"
    args = ("bulk", "set-status", "active", "-w", "ex-bulk", "-f", "role=member")
    code, out, err = run(*args, "--report", str(report))
    assert code == 1, err
    assert "1 changed to active, 0 unchanged, 22 refused" in out
    assert "… and 2 more" in out
    rows = report_rows(report)
    assert len(rows) == 22
    assert list(rows[0]) == ["user", "email", "code", "reason"]
    assert {r["code"] for r in rows} == {"user_blocked"}
    assert sorted(r["email"] for r in rows) == [f"b{i:02}@x.example" for i in range(22)]
    assert show("ex-bulk", "quiet@x.example")["status"] == "active"

    code, _, err = run("bulk", "set-status", "inactive", "-w", "ex-bulk", "-f", "colour=red")
    assert code == 2
    assert "--filter 'colour=red'" in err
    assert show("ex-bulk", "quiet@x.example")["status"] == "active"


def test_a_bad_row_after_the_first_chunk_still_changes_nothing(tmp_path: Path) -> None:
    make_workspace("ex-late")
    file = tmp_path / "late.csv"
    rows = "".join(f"u{i}@x.example,U {i}\n" for i in range(2100))
    file.write_text("email,name\n" + rows + "u5@X.example,Twice\n")
    code, _, err = run("users", "import", str(file), "-w", "ex-late")
    assert code == 2
    assert "line 2102: u5@x.example appears twice in the file" in err
    assert people("ex-late") == set()
