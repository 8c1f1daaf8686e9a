"""`roster automations list|run`, end to end on both databases."""

import json
import secrets

from roster.adapters.unit_of_work import SqlUnitOfWork
from roster.domain.users import Actor
from roster.domain.vocabulary import Route
from roster.entrypoints.cli import common
from roster.services import automations as auto
from roster.services import queries
from tests.e2e.test_cli import make_workspace, roster, run

__all__ = ["roster"]  # the fixture, shared with the CLI tests


def test_list_and_dry_run_then_run_for_cron(roster: None) -> None:
    slug = f"auto-{secrets.token_hex(3)}"
    make_workspace(slug)
    code, _, err = run(
        "users",
        "add",
        f"blocked@{slug}.example",
        "-w",
        slug,
        "--status",
        "blocked",
        "--reason",
        "payment_dispute",
    )
    assert code == 0, err
    engine = common.container().engine
    with engine.connect() as conn:
        workspace_id = queries.workspace_by_slug(conn, slug).id
    rule = auto.create_rule(
        SqlUnitOfWork(engine),
        workspace_id=workspace_id,
        data={
            "name": "Every minute",
            "trigger": {"type": "schedule", "every_minutes": 1},
            "conditions": [
                {"field": "email_domain", "op": "eq", "value": f"{slug}.example"},
                {"field": "role", "op": "eq", "value": "member"},
            ],
            "action": {"type": "set_status", "status": "inactive"},
        },
        route=Route.CLI,
        created_by=Actor(id=None, name="cli:test"),
        now=common.container().clock(),
    )
    code, out, _ = run("automations", "list", "-w", slug)
    assert code == 0
    assert f"{rule.id}  [on ]  Every minute: Every minute, users with an email at" in out
    code, out, _ = run("automations", "run", "-w", slug, "--dry-run", "--json")
    assert code == 0
    [dry] = json.loads(out)
    assert dry["dry_run"] is True
    assert dry["counts"] == {"matched": 1, "applied": 0, "unchanged": 0, "refused": 1}
    code, out, _ = run("automations", "run", "-w", slug)
    assert code == 0
    assert out == "Nothing was due.\n"  # the rule is due a minute after it was made
    code, _, err = run("automations", "run", "--dry-run")
    assert code == 2
    assert "--dry-run needs --workspace" in err
    code, _, err = run("automations", "list", "-w", "no-such-place")
    assert code == 2
