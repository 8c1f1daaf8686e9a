"""The automations pages of the dashboard: editor with plain words, dry run, runs."""

import json

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.vocabulary import Status
from tests.conftest import Tenant, new_tenant
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
    assert (bad.status_code, bad.headers["location"]) == (303, "/admin/automations/new")
    shown = client.get("/admin/automations/new").text  # once, at the editor's GET URL
    assert "trigger.daily_at: must be a time" in shown
    assert "&#34;daily_at&#34;: &#34;9&#34;" in shown or '"daily_at": "9"' in shown  # as typed
    assert "trigger.daily_at" not in client.get("/admin/automations/new").text
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


FORM = {
    "editor": "form", "name": "Dormant", "enabled": "1", "trigger_type": "daily",
    "daily_at": "03:00", "cond-0-field": "status", "cond-0-status_op": "in",
    "cond-0-status": "active", "cond-1-field": "last_seen_days", "cond-1-days_op": "gt",
    "cond-1-days": "90", "action_type": "set_status", "action_status": "inactive",
}  # fmt: skip


def test_the_editor_asks_the_server_for_the_plain_words_and_nothing_is_saved(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    url = "/admin/automations/summary"
    said = post_form(client, "/admin/automations/new", url, FORM).json()
    assert said["summary"] == (
        "Every day at 03:00, Active users not seen for 90 days become Inactive."
    )
    assert said["problem"] is None
    assert json.loads(said["definition"])["conditions"][1] == {
        "field": "last_seen_days", "op": "gt", "value": 90,
    }  # fmt: skip
    said = post_form(client, "/admin/automations/new", url, FORM | {"cond-1-days": "-3"}).json()
    assert said["summary"] is None
    assert said["problem"] == "Not complete yet: Must be a whole number of days, 0 to 36500."
    as_json = post_form(client, "/admin/automations/new", url, {"definition": json.dumps(RULE)})
    assert as_json.json()["summary"].startswith("Every day at 03:00, Active or Blocked users")
    without_token = client.post(url, data=FORM, follow_redirects=False)
    assert without_token.status_code == 403
    assert "No automations yet." in client.get("/admin/automations").text


def test_a_webhook_to_a_private_address_is_refused_next_to_the_url_field(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    webhook = FORM | {"action_type": "webhook", "url": "http://127.0.0.1:9/hook"}
    refused = post_form(client, "/admin/automations/new", "/admin/automations/new", webhook)
    assert (refused.status_code, refused.headers["location"]) == (303, "/admin/automations/new")
    page = client.get("/admin/automations/new")
    assert '<p class="error" id="url-error">127.0.0.1 is a loopback address' in page.text
    assert 'value="http://127.0.0.1:9/hook"' in page.text
    assert "No automations yet." in client.get("/admin/automations").text


def test_another_workspaces_rule_cannot_be_edited_through_the_form(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    other_tenant = new_tenant(container)
    signed_in_admin(client, container, tenant)
    saved = post_form(client, "/admin/automations/new", "/admin/automations/new", FORM)
    rule_url = saved.headers["location"]
    client.cookies.clear()
    signed_in_admin(client, container, other_tenant, email="eve@y.example")
    assert client.get(f"{rule_url}/edit").status_code == 404
    answer = post_form(client, "/admin/automations/new", rule_url, FORM | {"name": "Mine"})
    assert answer.status_code == 404
