"""Every admin action leaves a trace in the same hash chain as the status events:
its kind, actor, route, request id and each changed field before and after, never a
secret; `roster audit verify` proves the mixed chain and catches a rewritten kind or
change."""

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from roster.bootstrap import Container
from roster.config import get_settings
from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import Status
from roster.entrypoints.cli import common
from roster.entrypoints.cli.main import app
from tests.conftest import Tenant
from tests.e2e.admin.conftest import post_form, signed_in_admin
from tests.e2e.conftest import add_user, token_for
from tests.e2e.security.conftest import RULE


@pytest.fixture
def owner(container: Container, tenant: Tenant) -> dict[str, str]:
    """The owner's personal token (route admin_api)."""
    return token_for(container, tenant, CredentialKind.PERSONAL, tenant.owner.id)


def events(client: TestClient, headers: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    """The workspace's audit events, oldest first."""
    r = client.get(f"/api/v1/audit-events?limit=500{query}", headers=headers)
    assert r.status_code == 200, r.text
    return list(reversed(r.json()["items"]))


def sent(client: TestClient, headers: dict[str, str], request_id: str) -> dict[str, Any]:
    """The one event the request with `request_id` caused."""
    [event] = [e for e in events(client, headers) if e["request_id"] == request_id]
    return event


def with_id(headers: dict[str, str], request_id: str) -> dict[str, str]:
    return headers | {"X-Request-ID": request_id}


def test_api_unblock_switched_on_used_and_switched_off_leaves_three_events(
    client: TestClient, container: Container, tenant: Tenant, owner: dict[str, str]
) -> None:
    uid = add_user(container, tenant, "held@x.example", status=Status.BLOCKED)
    on = client.patch(
        "/api/v1/workspace", json={"allow_api_unblock": True}, headers=with_id(owner, "switch-on")
    )
    lift = client.put(
        f"/api/v1/users/{uid}/status",
        json={"status": "active", "note": "lifted by API"},
        headers=with_id(owner, "lift-1"),
    )
    off = client.patch(
        "/api/v1/workspace", json={"allow_api_unblock": False}, headers=with_id(owner, "switch-off")
    )
    assert (on.status_code, lift.status_code, off.status_code) == (200, 200, 200), lift.text
    trail = [
        e for e in events(client, owner) if e["request_id"] in {"switch-on", "lift-1", "switch-off"}
    ]
    assert [(e["kind"], e["request_id"], e["changes"]) for e in trail] == [
        ("workspace.settings_changed", "switch-on", {"allow_api_unblock": [False, True]}),
        ("status", "lift-1", None),
        ("workspace.settings_changed", "switch-off", {"allow_api_unblock": [True, False]}),
    ]
    assert {(e["actor_id"], e["route"], e["outcome"]) for e in trail} == {
        (tenant.owner.id, "admin_api", "applied")
    }
    assert (trail[1]["user_id"], trail[1]["from_status"], trail[1]["to_status"]) == (
        uid,
        "blocked",
        "active",
    )
    assert trail[0]["user_id"] is None
    assert trail[0]["to_status"] is None


def test_every_admin_action_kind_is_audited_with_its_before_and_after(
    client: TestClient, container: Container, tenant: Tenant, owner: dict[str, str]
) -> None:
    uid = add_user(container, tenant, "mo@x.example")
    client.patch(f"/api/v1/users/{uid}", json={"role": "admin"}, headers=with_id(owner, "role"))
    made = client.post(
        "/api/v1/tokens", json={"kind": "service", "name": "ci"}, headers=with_id(owner, "tok+")
    ).json()
    client.delete(f"/api/v1/tokens/{made['id']}", headers=with_id(owner, "tok-"))
    rule = client.post("/api/v1/automations", json=RULE, headers=with_id(owner, "rule+")).json()
    renamed = RULE | {"name": "Renamed rule"}
    client.put(f"/api/v1/automations/{rule['id']}", json=renamed, headers=with_id(owner, "rule~"))
    client.post(f"/api/v1/automations/{rule['id']}/enable", headers=with_id(owner, "rule-on"))
    client.post(f"/api/v1/automations/{rule['id']}/disable", headers=with_id(owner, "rule-off"))
    client.delete(f"/api/v1/automations/{rule['id']}", headers=with_id(owner, "rule-"))

    role = sent(client, owner, "role")
    assert (role["kind"], role["user_id"], role["changes"]) == (
        "user.role_changed",
        uid,
        {"role": ["member", "admin"]},
    )
    created, revoked = sent(client, owner, "tok+"), sent(client, owner, "tok-")
    assert created["kind"] == "credential.created"
    assert created["note"] == made["id"]
    assert created["changes"] == {
        "kind": [None, "service"],
        "name": [None, "ci"],
    }
    assert revoked["kind"] == "credential.revoked"
    assert revoked["note"] == made["id"]
    assert list(revoked["changes"]) == ["revoked_at"]
    rule_events = [
        sent(client, owner, i) for i in ("rule+", "rule~", "rule-on", "rule-off", "rule-")
    ]
    assert {e["kind"] for e in rule_events} == {"automation.changed"}
    assert {e["note"] for e in rule_events} == {rule["id"]}
    assert rule_events[0]["changes"]["name"] == [None, "Web rule"]
    assert rule_events[1]["changes"] == {"name": ["Web rule", "Renamed rule"]}
    assert rule_events[2]["changes"] == {"enabled": [False, True]}
    assert rule_events[3]["changes"] == {"enabled": [True, False]}
    assert rule_events[4]["changes"]["name"] == ["Renamed rule", None]
    everyone = [role, created, revoked, *rule_events]
    assert {(e["actor_id"], e["route"], e["outcome"]) for e in everyone} == {
        (tenant.owner.id, "admin_api", "applied")
    }


def test_no_secret_reaches_the_audit_log_its_csv_or_its_page(
    client: TestClient, container: Container, tenant: Tenant, owner: dict[str, str]
) -> None:
    token = client.post("/api/v1/tokens", json={"kind": "scim", "name": "idp"}, headers=owner)
    secret = token.json()["token"]
    client.delete(f"/api/v1/tokens/{token.json()['id']}", headers=owner)
    signed_in_admin(client, container, tenant)
    outputs = [
        client.get("/api/v1/audit-events?limit=500", headers=owner).text,
        client.get("/api/v1/audit-events?format=csv", headers=owner).text,
        client.get("/admin/audit").text,
        client.get("/admin/audit.csv").text,
    ]
    assert "credential.created" in outputs[0]
    for shown in outputs:
        assert secret not in shown
        assert secret.rsplit(".", 1)[-1] not in shown


def test_the_kind_filter_narrows_the_api_and_the_dashboard(
    client: TestClient, container: Container, tenant: Tenant, owner: dict[str, str]
) -> None:
    add_user(container, tenant, "kf@x.example")
    client.patch("/api/v1/workspace", json={"seat_limit": 40}, headers=owner)
    settings = events(client, owner, "&kind=workspace.settings_changed")
    assert [(e["kind"], e["changes"]) for e in settings] == [
        ("workspace.settings_changed", {"seat_limit": [None, 40]})
    ]
    statuses = events(client, owner, "&kind=status")
    assert statuses
    assert {e["kind"] for e in statuses} == {"status"}
    assert client.get("/api/v1/audit-events?kind=nonsense", headers=owner).status_code == 422
    signed_in_admin(client, container, tenant)
    post_form(client, "/admin/settings", "/admin/settings", {"allow_api_unblock": "on"})
    page = client.get("/admin/audit?kind=workspace.settings_changed").text
    assert "Allow API unblock: off → on" in page
    assert "Seat limit: none → 40" in page
    assert "kf@x.example" not in page
    assert "kf@x.example" in client.get("/admin/audit?kind=status").text
    bad = client.get("/admin/audit?kind=nonsense")
    assert bad.status_code == 422
    assert "Choose one of the listed kinds." in bad.text
    rows = list(
        csv.DictReader(
            io.StringIO(client.get("/admin/audit.csv?kind=workspace.settings_changed").text)
        )
    )
    assert [r["kind"] for r in rows] == ["workspace.settings_changed"] * 2
    assert '"allow_api_unblock": [false, true]' in rows[1]["changes"]


@pytest.fixture
def cli(container: Container, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("ROSTER_DATABASE_URL", container.settings.database_url)
    get_settings.cache_clear()
    common.container.cache_clear()
    yield CliRunner()
    common.container().engine.dispose()
    get_settings.cache_clear()
    common.container.cache_clear()


def tamper(container: Container, statement: str, tenant: Tenant) -> None:
    """What someone with raw database access could do, guards lifted."""
    with container.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
            conn.execute(text(statement), {"w": tenant.id})
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
            return
        conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(text(statement), {"w": tenant.id})
        conn.execute(
            text(
                "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END"
            )
        )


@pytest.mark.parametrize(
    "rewrite",
    [
        "kind = 'status'",
        "changes = '{\"seat_limit\": [null, 4]}'",
    ],
)
def test_audit_verify_proves_a_mixed_chain_and_names_a_rewritten_admin_event(
    client: TestClient,
    container: Container,
    tenant: Tenant,
    owner: dict[str, str],
    cli: CliRunner,
    rewrite: str,
) -> None:
    uid = add_user(container, tenant, "mix@x.example")
    client.patch("/api/v1/workspace", json={"seat_limit": 400}, headers=owner)
    client.put(f"/api/v1/users/{uid}/status", json={"status": "inactive"}, headers=owner)
    client.patch(f"/api/v1/users/{uid}", json={"role": "admin"}, headers=owner)
    kinds = {e["kind"] for e in events(client, owner)}
    assert {"status", "workspace.settings_changed", "user.role_changed"} <= kinds
    ok = cli.invoke(app, ["audit", "verify", "-w", tenant.workspace.slug])
    assert ok.exit_code == 0, ok.output
    assert "is intact" in ok.stdout
    [settings] = events(client, owner, "&kind=workspace.settings_changed")
    tamper(
        container,
        f"UPDATE audit_events SET {rewrite} WHERE workspace_id = :w AND seq = {settings['seq']}",  # noqa: S608 - the test's own rewrites
        tenant,
    )
    broken = cli.invoke(app, ["audit", "verify", "-w", tenant.workspace.slug])
    assert broken.exit_code == 1
    assert f"is broken at event {settings['seq']}" in broken.stderr
