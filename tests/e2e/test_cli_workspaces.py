"""`roster workspaces set --timezone`, and billing's days following it, on both
databases."""

import pytest

from tests.e2e.test_cli import make_workspace, roster, run

__all__ = ["roster"]  # the fixture: the command line on the test's database

pytestmark = pytest.mark.usefixtures("roster")


def test_an_operator_sets_the_time_zone_that_billing_reports_follow() -> None:
    make_workspace("tz-cli")
    code, out, err = run("workspaces", "set", "tz-cli", "--timezone", "Europe/Paris")
    assert code == 0, err
    assert "Workspace tz-cli: time zone Europe/Paris." in out
    args = ("billing", "report", "-w", "tz-cli", "--from", "2031-06-01", "--to", "2031-06-02")
    code, out, err = run(*args)
    assert code == 0, err
    assert "(Europe/Paris days)" in out


def test_an_unknown_time_zone_exits_2_and_changes_nothing() -> None:
    make_workspace("tz-bad")
    code, _, err = run("workspaces", "set", "tz-bad", "--timezone", "Paris")
    assert code == 2
    assert "'Paris' is not a time zone" in err
    code, out, _ = run(
        "billing", "report", "-w", "tz-bad", "--from", "2031-06-01", "--to", "2031-06-01"
    )
    assert "(UTC days)" in out
    code, _, err = run("workspaces", "set", "nowhere", "--timezone", "UTC")
    assert code == 2
    assert "There is no workspace 'nowhere'" in err
