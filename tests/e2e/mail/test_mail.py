"""Mail end to end: what the API queues, what the Emails list shows, and what a real
SMTP server receives (delivered, retried after a 451, failed with a 550's reply)."""

from typing import Any

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import Status
from roster.entrypoints.web.background import run_bulk_jobs
from tests.conftest import Tenant
from tests.e2e.access.conftest import Clock
from tests.e2e.conftest import add_user, token_for
from tests.e2e.mail.conftest import PUBLIC_URL, Inbox, free_port, send_through


def _emails(client: TestClient, admin: dict[str, str], **params: str) -> list[dict[str, Any]]:
    r = client.get("/api/v1/emails", params=params, headers=admin)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def _invite(client: TestClient, admin: dict[str, str], email: str) -> dict[str, str]:
    r = client.post("/api/v1/invitations", json={"email": email}, headers=admin)
    assert r.status_code == 201, r.text
    made: dict[str, str] = r.json()
    return made


def test_an_invitation_is_kept_on_the_emails_list_with_its_absolute_link_when_no_smtp_is_set(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    admin = token_for(mail_container, mail_tenant, CredentialKind.PERSONAL)
    made = _invite(mail_client, admin, "new@people.example")
    assert made["accept_url"] == f"{PUBLIC_URL}/invitations/{made['token']}"
    [email] = _emails(mail_client, admin)
    assert (email["to"], email["status"], email["kind"]) == (
        "new@people.example", "queued", "invitation",
    )  # fmt: skip
    assert mail_tenant.workspace.name in email["subject"]
    assert made["accept_url"] in email["text_body"]
    page = mail_client.get(made["accept_url"])  # the link works
    assert page.status_code == 200
    assert "new@people.example" in page.text


def test_an_invitation_reaches_a_real_smtp_server_with_a_text_and_an_html_part(
    mail_client: TestClient,
    mail_container: Container,
    mail_tenant: Tenant,
    inbox: tuple[Inbox, int],
) -> None:
    server, port = inbox
    admin = token_for(mail_container, mail_tenant, CredentialKind.PERSONAL)
    made = _invite(mail_client, admin, "arrives@people.example")
    send_through(mail_container, port)
    send_through(mail_container, port)  # nothing is sent twice
    [message] = server.to("arrives@people.example")
    assert message["Message-ID"].startswith(f"<invitation.{made['id']}@")
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert made["accept_url"] in text.get_content()
    assert html is not None
    assert f'href="{made["accept_url"]}"' in html.get_content()
    [email] = _emails(mail_client, admin, status="sent")
    assert email["to"] == "arrives@people.example"
    secret = made["token"].rsplit(".", 1)[1]
    assert secret not in email["text_body"]  # the link's secret is kept only until sent
    assert "[redacted]" in email["text_body"]


def test_a_451_is_retried_after_a_while_and_then_delivered(
    mail_client: TestClient,
    mail_container: Container,
    mail_tenant: Tenant,
    inbox: tuple[Inbox, int],
    clock: Clock,
) -> None:
    server, port = inbox
    admin = token_for(mail_container, mail_tenant, CredentialKind.PERSONAL)
    _invite(mail_client, admin, "later@people.example")
    send_through(mail_container, port)
    [waiting] = _emails(mail_client, admin)
    assert waiting["status"] == "queued"
    assert waiting["last_error"].startswith("451")
    send_through(mail_container, port)  # not due yet: nothing is tried
    assert _emails(mail_client, admin)[0]["attempts"] == 1
    clock.advance(minutes=1)
    send_through(mail_container, port)
    assert len(server.to("later@people.example")) == 1
    [sent] = _emails(mail_client, admin)
    assert (sent["status"], sent["attempts"]) == ("sent", 2)


def test_a_550_fails_the_message_with_the_servers_reply(
    mail_client: TestClient,
    mail_container: Container,
    mail_tenant: Tenant,
    inbox: tuple[Inbox, int],
    clock: Clock,
) -> None:
    server, port = inbox
    admin = token_for(mail_container, mail_tenant, CredentialKind.PERSONAL)
    _invite(mail_client, admin, "reject@people.example")
    send_through(mail_container, port)
    clock.advance(days=1)
    send_through(mail_container, port)  # never tried again
    [failed] = _emails(mail_client, admin, status="failed")
    assert failed["last_error"] == "550 5.1.1 No such mailbox here"
    assert failed["attempts"] == 1
    assert server.to("reject@people.example") == []


def test_no_smtp_server_answering_keeps_the_message_for_a_retry(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    admin = token_for(mail_container, mail_tenant, CredentialKind.PERSONAL)
    _invite(mail_client, admin, "down@people.example")
    send_through(mail_container, free_port())  # a port nobody listens on
    [waiting] = _emails(mail_client, admin)
    assert waiting["status"] == "queued"
    assert "ConnectionRefused" in waiting["last_error"]


def test_a_deactivated_user_is_told_with_the_reason_in_plain_words_and_never_the_note(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    admin = token_for(mail_container, mail_tenant, CredentialKind.PERSONAL)
    user = add_user(mail_container, mail_tenant, "leaving@people.example")
    r = mail_client.put(
        f"/api/v1/users/{user}/status",
        json={"status": "blocked", "reason_code": "payment_dispute", "note": "SECRET-NOTE"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    [notice] = _emails(mail_client, admin)
    assert notice["to"] == "leaving@people.example"
    assert "blocked" in notice["subject"]
    assert "a payment dispute" in notice["text_body"]
    assert "SECRET-NOTE" not in notice["text_body"]


def test_a_bulk_deactivation_tells_each_changed_user_once_and_no_refused_one(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    admin = token_for(mail_container, mail_tenant, CredentialKind.PERSONAL)
    changed = [add_user(mail_container, mail_tenant, f"u{i}@people.example") for i in range(3)]
    blocked = add_user(mail_container, mail_tenant, "held@people.example", status=Status.BLOCKED)
    before = {e["id"] for e in _emails(mail_client, admin)}
    r = mail_client.post(
        "/api/v1/bulk-actions",
        json={"status": "inactive", "user_ids": [*changed, blocked]},
        headers=admin,
    )
    assert r.status_code == 202, r.text
    run_bulk_jobs(mail_container)
    new = [e for e in _emails(mail_client, admin) if e["id"] not in before]
    assert sorted(e["to"] for e in new) == [f"u{i}@people.example" for i in range(3)]
    assert all("deactivated" in e["subject"] for e in new)
