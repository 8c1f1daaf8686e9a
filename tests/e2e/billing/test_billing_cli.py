"""`roster billing` end to end on both databases: report, verify, snapshot."""

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from roster.bootstrap import Container
from roster.config import get_settings
from roster.entrypoints.cli import common
from roster.entrypoints.cli.main import app
from tests.conftest import Tenant
from tests.e2e.billing.test_billing_api import history

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


PERIOD = ("--from", "2031-06-01", "--to", "2031-06-02")


@pytest.mark.usefixtures("roster")
def test_report_as_json_csv_and_table(container: Container, tenant: Tenant) -> None:
    history(container, tenant)
    slug = tenant.workspace.slug
    code, out, err = run("billing", "report", "-w", slug, *PERIOD, "--format", "json")
    assert code == 0, err
    assert [(d["date"], d["seat_days"]) for d in json.loads(out)["days"]] == [
        ("2031-06-01", 3),
        ("2031-06-02", 4),
    ]
    code, out, _ = run("billing", "report", "-w", slug, *PERIOD, "--format", "csv")
    assert out.splitlines() == [
        "date,peak,closing,seat_days",
        "2031-06-01,3,3,3",
        "2031-06-02,3,3,4",
        "total,3,3,7",
    ]
    code, out, _ = run("billing", "report", "-w", slug, *PERIOD)
    assert code == 0
    assert "total" in out
    assert "2031-06-02" in out


@pytest.mark.usefixtures("roster")
@pytest.mark.parametrize(
    "args",
    [
        ("--from", "June", "--to", "2031-06-02"),
        ("--from", "2031-06-03", "--to", "2031-06-02"),
    ],
)
def test_a_bad_period_exits_2_with_a_sentence(tenant: Tenant, args: tuple[str, ...]) -> None:
    code, _, err = run("billing", "report", "-w", tenant.workspace.slug, *args)
    assert code == 2
    assert err.startswith("Error: ")


@pytest.mark.usefixtures("roster")
def test_an_unknown_workspace_exits_2() -> None:
    code, _, err = run("billing", "report", "-w", "no-such-ws", *PERIOD)
    assert code == 2
    assert "no-such-ws" in err


@pytest.mark.usefixtures("roster")
def test_verify_exits_0_when_counts_agree_and_1_naming_the_difference(
    container: Container, tenant: Tenant
) -> None:
    history(container, tenant)
    slug = tenant.workspace.slug
    code, out, err = run("billing", "verify", "-w", slug)
    assert code == 0, err
    assert "agree: 3 active, 1 inactive, 0 blocked" in out
    with container.engine.begin() as conn:
        conn.execute(
            text("UPDATE user_counts SET inactive = inactive - 1 WHERE workspace_id = :w"),
            {"w": tenant.id},
        )
    code, _, err = run("billing", "verify", "-w", slug)
    assert code == 1
    assert "inactive: counter 0, users table 1, audit log 1" in err
    code, out, _ = run("billing", "verify", "-w", slug, "--json")
    assert code == 1
    assert json.loads(out)["ok"] is False


@pytest.mark.usefixtures("roster")
def test_snapshot_saves_sealed_days_and_rebuild_recomputes_them(
    container: Container, tenant: Tenant
) -> None:
    history(container, tenant)  # the log's clock is at 2 June 11:00: 1 June is sealed
    slug = tenant.workspace.slug
    code, out, err = run("billing", "snapshot", "-w", slug)
    assert code == 0, err
    assert out.strip().startswith("Saved ")
    assert run("billing", "snapshot", "-w", slug)[1].strip() == "Saved 0 days of usage."
    code, out, _ = run("billing", "snapshot", "-w", slug, "--rebuild")
    assert code == 0
    assert run("billing", "verify", "-w", slug)[0] == 0
    code, out, _ = run("billing", "report", "-w", slug, *PERIOD, "--json")
    assert json.loads(out)["totals"]["seat_days"] == 7
