"""Webhook destinations cannot reach inside: an automation rule's webhook to a
loopback, private, link-local, unique-local, multicast or metadata address is
refused when saved, and a name that resolves inside fails at delivery, unless the
operator sets ROSTER_WEBHOOK_ALLOW_PRIVATE=true."""

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from roster.adapters.tables import webhook_deliveries
from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.webhooks import retry_delay
from roster.entrypoints.web.app import create_app
from tests.conftest import Tenant
from tests.e2e.admin.conftest import post_form, signed_in_admin
from tests.e2e.conftest import token_for
from tests.e2e.webhooks.kit import deliver

INSIDE = [
    "http://127.0.0.1:8000/hook",
    "http://2130706433/hook",
    "http://0x7f.1/hook",
    "http://[::1]/hook",
    "http://[::ffff:10.0.0.1]/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://192.168.1.10/hook",
    "http://[fe80::1]/hook",
    "http://239.1.2.3/hook",
]


def webhook_rule(url: str) -> dict[str, Any]:
    return {
        "name": "Tell billing",
        "trigger": {"type": "event", "event": "payment.failed"},
        "action": {"type": "webhook", "url": url},
    }


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        type(self).received.append(self.rfile.read(int(self.headers["content-length"])))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[int, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"received": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port, handler
    server.shutdown()
    server.server_close()


def allowing(container: Container) -> Container:
    settings = container.settings.model_copy(update={"webhook_allow_private": True})
    return replace(container, settings=settings)


def test_a_webhook_to_an_inside_address_is_refused_when_saved(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    assert container.settings.webhook_allow_private is False  # the default
    admin = token_for(container, tenant, CredentialKind.PERSONAL)
    for url in INSIDE:
        r = client.post("/api/v1/automations", json=webhook_rule(url), headers=admin)
        assert (r.status_code, r.json()["code"]) == (422, "validation_error"), url
        assert r.json()["detail"].startswith("action.url: "), url
        assert r.json()["detail"].endswith("; webhooks are only sent to public addresses."), url
    assert client.get("/api/v1/automations", headers=admin).json()["items"] == []
    fine = client.post(
        "/api/v1/automations", json=webhook_rule("https://hooks.example/x"), headers=admin
    )
    assert fine.status_code == 201
    moved = client.put(
        f"/api/v1/automations/{fine.json()['id']}",
        json=webhook_rule("http://10.0.0.1/x"),
        headers=admin,
    )
    assert moved.status_code == 422
    assert "10.0.0.1 is a private address" in moved.json()["detail"]
    with TestClient(create_app(allowing(container))) as dev:
        r = dev.post("/api/v1/automations", json=webhook_rule(INSIDE[0]), headers=admin)
        assert r.status_code == 201


def test_the_dashboards_editor_says_why_an_inside_address_is_refused(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    refused = post_form(
        client,
        "/admin/automations/new",
        "/admin/automations/new",
        {"definition": json.dumps(webhook_rule("http://169.254.169.254/"))},
    )
    assert (refused.status_code, refused.headers["location"]) == (303, "/admin/automations/new")
    page = client.get("/admin/automations/new")
    assert "169.254.169.254 is a cloud metadata address" in page.text


def test_a_name_that_resolves_inside_fails_at_delivery_with_the_reason(
    client: TestClient,
    container: Container,
    tenant: Tenant,
    receiver: tuple[int, type[_Receiver]],
) -> None:
    port, handler = receiver
    admin = token_for(container, tenant, CredentialKind.PERSONAL)
    # A name is not judged when saved: it may resolve anywhere by delivery time.
    url = f"http://localhost:{port}/hooks"
    rule = client.post("/api/v1/automations", json=webhook_rule(url), headers=admin)
    assert rule.status_code == 201
    service = token_for(container, tenant, CredentialKind.SERVICE)
    event = {"type": "payment.failed", "user_id": tenant.owner.id}
    assert client.post("/api/v1/events", json=event, headers=service).status_code == 202
    now = container.clock()
    allow = container.settings.webhook_allow_private
    assert deliver(container, now, allow_private=allow) == 0
    assert handler.received == []  # nothing left for the inside address
    d = webhook_deliveries.c
    with container.engine.connect() as conn:
        [tried] = conn.execute(
            select(d.status_code, d.error).where(
                d.workspace_id == tenant.id, d.rule_id == rule.json()["id"]
            )
        ).all()
    assert tried.status_code is None
    assert tried.error.startswith("localhost resolves to ")
    assert "a loopback address; webhooks are only sent to public addresses." in tried.error
    # The operator's setting lets the same delivery through (local development).
    later = now + retry_delay(1, 1.0)
    assert deliver(container, later, allow_private=True) == 1
    assert len(handler.received) == 1
