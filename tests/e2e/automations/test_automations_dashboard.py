"""The automations pages of the dashboard: editor with plain words, dry run, runs."""

import json

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.vocabulary import Status
from tests.conftest import Tenant
from tests.e2e.admin.conftest import post_form, signed_in_admin
from tests.e2e.conftest import add_user

RULE = {
    "name": "Clean up",
    "trigger": {"type": "schedule", "daily_at": "03:00"},
    "conditions": [
        {"field": "status", "op": "in", "value": ["active", "blocked"]},
        {"field": "role", "op": "eq", "value": "member"},
    ],
    "action": {"type": "set_status", "status": "inactive"},
}


def test_an_admin_writes_a_rule_previews_it_and_sees_the_blocked_refused(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    blocked = add_user(
        container, tenant, f"b@{tenant.workspace.slug}.example", status=Status.BLOCKED
    )
    page = client.get("/admin/automations/new")
    assert "Every day at 03:00, Active users not seen for 90 days become Inactive." in page.text
    bad = post_form(
        client, "/admin/automations/new", "/admin/automations/new",
        {"definition": json.dumps(RULE | {"trigger": {"type": "schedule", "daily_at": "9"}})},
    )  # fmt: skip
    assert bad.status_code == 422
    assert "trigger.daily_at: must be a time" in bad.text
    saved = post_form(
        client, "/admin/automations/new", "/admin/automations/new",
        {"definition": json.dumps(RULE)},
    )  # fmt: skip
    assert saved.status_code == 303
    rule_url = saved.headers["location"]
    page = client.get(rule_url)
    assert "Every day at 03:00, Active or Blocked users with role member become Inactive." in (
        page.text
    )
    dry = post_form(client, rule_url, f"{rule_url}/runs", {"dry_run": "1"})
    run_page = client.get(dry.headers["location"])
    assert "A preview: nothing was changed." in run_page.text
    assert '<span title="user_blocked">this user is Blocked</span>: 1' in run_page.text
    assert f"/admin/users/{blocked}" in run_page.text
    assert "Automations" in client.get("/admin/automations").text


def test_the_runs_that_touched_a_user_are_listed(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    member = add_user(container, tenant, f"m@{tenant.workspace.slug}.example")
    saved = post_form(
        client, "/admin/automations/new", "/admin/automations/new",
        {"definition": json.dumps(RULE)},
    )  # fmt: skip
    rule_url = saved.headers["location"]
    post_form(client, rule_url, f"{rule_url}/runs", {})
    profile = client.get(f"/admin/users/{member}")
    assert f'href="/admin/users/{member}/automation-runs"' in profile.text
    page = client.get(f"/admin/users/{member}/automation-runs")
    assert "Clean up" in page.text
    assert "applied (to Inactive)" in page.text
