"""The automations API, the events API and the CLI, end to end on both databases."""

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.rules.definition import MAX_DEPTH
from roster.domain.vocabulary import Role, Status
from roster.domain.webhooks import retry_delay
from roster.entrypoints.web.app import create_app
from tests.conftest import Tenant
from tests.e2e.conftest import add_user, token_for
from tests.e2e.webhooks.kit import attempts, deliver

DORMANT = {
    "name": "Deactivate dormant users",
    "enabled": True,
    "trigger": {"type": "schedule", "daily_at": "03:00"},
    "conditions": [
        {"field": "status", "op": "in", "value": ["active", "blocked"]},
        {"field": "role", "op": "eq", "value": "member"},
        {"field": "never_signed_in_days", "op": "lt", "value": 1},
    ],
    "action": {"type": "set_status", "status": "inactive", "note": "Cleanup"},
}


@pytest.fixture
def admin(container: Container, tenant: Tenant) -> dict[str, str]:
    return token_for(container, tenant, CredentialKind.PERSONAL)


def test_rules_are_created_read_listed_replaced_toggled_and_deleted(
    client: TestClient, admin: dict[str, str]
) -> None:
    made = client.post("/api/v1/automations", json=DORMANT, headers=admin)
    assert made.status_code == 201, made.text
    rule = made.json()
    assert rule["summary"] == (
        "Every day at 03:00, Active or Blocked users with role member and who never "
        "signed in and were created less than 1 days ago become Inactive."
    )
    assert rule["next_run_at"] is not None
    url = f"/api/v1/automations/{rule['id']}"
    assert client.get(url, headers=admin).json()["name"] == DORMANT["name"]
    assert [r["id"] for r in client.get("/api/v1/automations", headers=admin).json()["items"]] == [
        rule["id"]
    ]
    off = client.post(f"{url}/disable", headers=admin).json()
    assert (off["enabled"], off["next_run_at"]) == (False, None)
    assert client.post(f"{url}/enable", headers=admin).json()["enabled"] is True
    renamed = client.put(url, json=DORMANT | {"name": "Tidy"}, headers=admin)
    assert renamed.json()["name"] == "Tidy"
    assert client.delete(url, headers=admin).status_code == 204
    assert client.get(url, headers=admin).json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"trigger": {"type": "schedule", "daily_at": "3 am"}}, "trigger.daily_at"),
        ({"trigger": {"type": "cron"}}, "trigger.type"),
        ({"conditions": [{"field": "mood", "op": "eq", "value": 1}]}, "conditions[0].field"),
        ({"conditions": [{"field": "status", "op": "gt", "value": 1}]}, "conditions[0].op"),
        (
            {"conditions": [{"field": "status", "op": "in", "value": ["asleep"]}]},
            "conditions[0].value",
        ),
        ({"action": {"type": "set_status", "status": "blocked"}}, "action.reason_code"),
        ({"action": {"type": "webhook", "url": "ftp://x"}}, "action.url"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_rules_answer_422_naming_the_field_and_save_nothing(
    client: TestClient, admin: dict[str, str], change: dict[str, Any], field: str
) -> None:
    answer = client.post("/api/v1/automations", json=DORMANT | change, headers=admin)
    assert answer.status_code == 422
    body = answer.json()
    assert (body["code"], body["field"]) == ("validation_error", field)
    assert body["detail"].startswith(field)
    assert client.get("/api/v1/automations", headers=admin).json()["items"] == []


def test_members_and_service_tokens_cannot_manage_rules(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    member = add_user(container, tenant, f"m@{tenant.workspace.slug}.example")
    for headers in (
        token_for(container, tenant, CredentialKind.SERVICE),
        {},
    ):
        assert client.get("/api/v1/automations", headers=headers).status_code in (401, 403)
    assert member


def test_a_run_and_its_dry_run_report_the_same_outcomes(
    client: TestClient, container: Container, tenant: Tenant, admin: dict[str, str]
) -> None:
    slug = tenant.workspace.slug
    new = add_user(container, tenant, f"new@{slug}.example", password=False)
    blocked = add_user(container, tenant, f"b@{slug}.example", status=Status.BLOCKED)
    rule = client.post("/api/v1/automations", json=DORMANT, headers=admin).json()
    runs = f"/api/v1/automations/{rule['id']}/runs"
    dry = client.post(runs, json={"dry_run": True}, headers=admin)
    assert dry.status_code == 201
    assert dry.json()["counts"] == {
        "matched": 2,
        "applied": 1,
        "unchanged": 0,
        "refused": 1,
        "refused:user_blocked": 1,
    }
    assert dry.json()["active_delta"] == -1
    real = client.post(runs, json={"dry_run": False}, headers=admin).json()
    assert real["state"] == "succeeded"
    assert real["counts"] == dry.json()["counts"]

    def results(run_id: str) -> list[tuple[str, str, str | None]]:
        items = client.get(f"{runs}/{run_id}/outcomes", headers=admin).json()["items"]
        return [(o["user_id"], o["result"], o["code"]) for o in items]

    assert results(real["id"]) == results(dry.json()["id"])
    assert sorted(results(real["id"])) == sorted(
        [(new, "applied", None), (blocked, "refused", "user_blocked")]
    )
    assert client.get(f"{runs}/{real['id']}", headers=admin).json()["id"] == real["id"]
    listed = client.get(runs, headers=admin).json()["items"]
    assert [r["dry_run"] for r in listed] == [False, True]
    user = client.get(f"/api/v1/users/{blocked}", headers=admin).json()
    assert user["status"] == "blocked"


def test_payment_succeeded_posted_by_a_service_token_never_unblocks(
    client: TestClient, container: Container, tenant: Tenant, admin: dict[str, str]
) -> None:
    blocked = add_user(
        container, tenant, f"debtor@{tenant.workspace.slug}.example", status=Status.BLOCKED
    )
    client.post(
        "/api/v1/automations",
        json={
            "name": "Reactivate on payment",
            "trigger": {"type": "event", "event": "payment.succeeded"},
            "action": {"type": "set_status", "status": "active", "note": "Paid"},
        },
        headers=admin,
    )
    service = token_for(container, tenant, CredentialKind.SERVICE)
    answer = client.post(
        "/api/v1/events",
        json={"type": "payment.succeeded", "email": f"debtor@{tenant.workspace.slug}.example"},
        headers=service,
    )
    assert answer.status_code == 202, answer.text
    [run] = answer.json()["runs"]
    assert run["state"] == "succeeded"
    assert run["counts"]["refused:user_blocked"] == 1
    user = client.get(f"/api/v1/users/{blocked}", headers=admin).json()
    assert user["status"] == "blocked"
    audit = client.get(f"/api/v1/audit-events?user={blocked}", headers=admin).json()
    assert ("automation", "active", "user_blocked") in [
        (e["route"], e["to_status"], e["outcome"]) for e in audit["items"]
    ]


def test_events_about_unknown_users_or_with_bad_types_are_refused(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    service = token_for(container, tenant, CredentialKind.SERVICE)
    unknown = {"type": "payment.failed", "email": "nobody@nowhere.example"}
    assert client.post("/api/v1/events", json=unknown, headers=service).status_code == 404
    spoof = {"type": "user.created", "user_id": tenant.owner.id}
    assert client.post("/api/v1/events", json=spoof, headers=service).status_code == 422
    member = add_user(container, tenant, f"m@{tenant.workspace.slug}.example", role=Role.MEMBER)
    personal = {"type": "payment.failed", "user_id": member}
    scim = token_for(container, tenant, CredentialKind.SCIM)
    assert client.post("/api/v1/events", json=personal, headers=scim).status_code == 403


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    answers: ClassVar[list[int]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        type(self).received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(self.answers.pop(0) if self.answers else 204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"received": [], "answers": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks", handler
    server.shutdown()
    server.server_close()


@pytest.fixture
def private_ok(container: Container) -> Iterator[tuple[TestClient, Container]]:
    """The app as a developer runs it with ROSTER_WEBHOOK_ALLOW_PRIVATE=true: the
    test's receiver listens on loopback."""
    settings = container.settings.model_copy(update={"webhook_allow_private": True})
    allowing = replace(container, settings=settings)
    with TestClient(create_app(allowing)) as c:
        yield c, allowing


def test_webhooks_are_signed_retried_with_backoff_and_recorded(
    private_ok: tuple[TestClient, Container],
    tenant: Tenant,
    admin: dict[str, str],
    receiver: tuple[str, type[_Receiver]],
) -> None:
    client, container = private_ok
    allow = container.settings.webhook_allow_private
    url, handler = receiver
    handler.answers = [500]
    rule = client.post(
        "/api/v1/automations",
        json={
            "name": "Tell billing",
            "trigger": {"type": "event", "event": "payment.failed"},
            "action": {"type": "webhook", "url": url},
        },
        headers=admin,
    ).json()
    secret = rule["webhook_secret"]
    assert secret.startswith("whsec_")
    service = token_for(container, tenant, CredentialKind.SERVICE)
    event = {"type": "payment.failed", "user_id": tenant.owner.id, "data": {"amount": 42}}
    [run] = client.post("/api/v1/events", json=event, headers=service).json()["runs"]
    assert run["counts"]["applied"] == 1
    now = datetime.now(UTC)
    assert deliver(container, now, allow_private=allow) == 0  # the receiver answers 500
    assert deliver(container, now, allow_private=allow) == 0  # not due again yet
    later = now + retry_delay(1, 1.0) + timedelta(seconds=1)
    assert deliver(container, later, allow_private=allow) == 1
    assert deliver(container, later, allow_private=allow) == 0  # delivered once
    (first, body1), (second, body2) = handler.received
    assert first["webhook-id"] == second["webhook-id"]
    for head, body in ((first, body1), (second, body2)):
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signed = f"{head['webhook-id']}.{head['webhook-timestamp']}.".encode() + body
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        assert head["webhook-signature"] == f"v1,{expected}"
    payload = json.loads(body2)
    assert payload["type"] == "payment.failed"
    assert payload["data"]["user"]["id"] == tenant.owner.id
    assert payload["data"]["event"]["data"] == {"amount": 42}
    tried = attempts(container, tenant.id, first["webhook-id"])
    assert [(a.attempt, a.status_code) for a in tried] == [(1, 500), (2, 204)]


def test_the_dormant_template_is_offered_ready_to_save(
    client: TestClient, admin: dict[str, str]
) -> None:
    template = client.get("/api/v1/automations/templates/dormant?days=30", headers=admin).json()
    made = client.post("/api/v1/automations", json=template, headers=admin).json()
    assert made["summary"] == (
        "Every day at 03:00, Active users not seen for 30 days become Inactive."
    )


def test_roster_serve_runs_the_automation_ticks() -> None:
    from roster.entrypoints.web.background import TICKS

    assert {"automations", "automation-events", "webhooks"} <= {name for name, _ in TICKS}
    assert MAX_DEPTH >= 2
