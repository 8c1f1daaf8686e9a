"""The CLI's lists (workspaces, users, tokens) under a header row with names, token
revocation, and help that lists flags as they are typed; on both databases."""

import json

import pytest
import typer.main

from roster.entrypoints.cli.main import app
from tests.e2e.test_cli import make_workspace, roster, run

__all__ = ["roster"]  # the fixture, used by name


def _rows(out: str) -> list[list[str]]:
    return [line.split() for line in out.strip().splitlines()]


@pytest.mark.usefixtures("roster")
def test_users_list_has_a_header_row_and_each_users_name() -> None:
    make_workspace("cli-names")
    code, _, err = run("users", "add", "ann@x.example", "-w", "cli-names", "--name", "Ann Lee")
    assert code == 0, err
    code, out, err = run("users", "list", "-w", "cli-names")
    assert code == 0, err
    header, *rows = out.strip().splitlines()
    assert header.split() == ["ID", "STATUS", "ROLE", "EMAIL", "NAME"]
    assert [r.split()[1:] for r in rows] == [
        ["active", "owner", "boss@cli-names.example", "boss"],
        ["active", "member", "ann@x.example", "Ann", "Lee"],
    ]


@pytest.mark.usefixtures("roster")
def test_workspaces_list_shows_each_workspace_with_its_counts() -> None:
    make_workspace("cli-spaces")
    run("users", "add", "gone@x.example", "-w", "cli-spaces", "--status", "inactive")
    code, out, err = run("workspaces", "list")
    assert code == 0, err
    rows = _rows(out)
    assert rows[0] == ["SLUG", "NAME", "ACTIVE", "INACTIVE", "BLOCKED", "ID"]
    [mine] = [r for r in rows if r[0] == "cli-spaces"]
    assert mine[1:5] == ["cli-spaces", "1", "1", "0"]
    code, out, _ = run("workspaces", "list", "--json")
    [listed] = [w for w in json.loads(out) if w["slug"] == "cli-spaces"]
    assert (listed["active"], listed["inactive"], listed["blocked"]) == (1, 1, 0)


@pytest.mark.usefixtures("roster")
def test_tokens_are_listed_with_their_owner_and_revoked_by_id() -> None:
    make_workspace("cli-tokens")
    boss = "boss@cli-tokens.example"
    run("tokens", "create", "-w", "cli-tokens", "--kind", "personal", "--user", boss)
    run("tokens", "create", "-w", "cli-tokens", "--kind", "service", "--name", "billing-sync")
    code, out, err = run("tokens", "list", "-w", "cli-tokens")
    assert code == 0, err
    rows = _rows(out)
    assert rows[0][:5] == ["ID", "KIND", "NAME", "USER", "STATE"]
    service, personal = rows[1:]  # newest first
    assert service[1:4] == ["service", "billing-sync", "live"]
    assert personal[1:4] == ["personal", boss, "live"]
    code, out, err = run("tokens", "revoke", service[0], "-w", "cli-tokens")
    assert (code, out.strip()) == (0, f"Revoked token {service[0]}."), err
    listed = json.loads(run("tokens", "list", "-w", "cli-tokens", "--json")[1])
    assert {t["id"]: t["revoked_at"] is not None for t in listed} == {
        service[0]: True,
        personal[0]: False,
    }
    assert [t["user_email"] for t in listed] == [None, boss]
    code, _, err = run("tokens", "revoke", service[0], "-w", "cli-tokens")
    assert code == 2
    assert "No such live credential" in err


def _commands(group: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in getattr(group, "commands", {}).items():
        found += _commands(command, (*path, name))
    return found


def test_help_lists_flags_as_they_are_typed() -> None:
    commands = _commands(typer.main.get_command(app))
    assert ("tokens", "revoke") in commands
    for path in commands:
        code, out, err = run(*path, "--help")
        assert code == 0, (path, err)
        assert "<bool>" not in out, path
    assert "  --json  " in run("tokens", "list", "--help")[1]
