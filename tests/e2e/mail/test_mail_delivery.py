"""Several senders at once, and a sender that dies mid-batch: each message still
reaches the SMTP server once (or, after a crash, again with the same Message-ID)."""

import threading

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.services import mail
from tests.conftest import Tenant
from tests.e2e.access.conftest import Clock
from tests.e2e.conftest import token_for
from tests.e2e.mail.conftest import Inbox, send_through


def _invite_many(client: TestClient, admin: dict[str, str], prefix: str, n: int) -> list[str]:
    emails = [f"{prefix}{i}@people.example" for i in range(n)]
    for email in emails:
        assert client.post("/api/v1/invitations", json={"email": email}, headers=admin).is_success
    return emails


def test_senders_running_at_once_send_each_message_once(
    mail_client: TestClient,
    mail_container: Container,
    mail_tenant: Tenant,
    inbox: tuple[Inbox, int],
    clock: Clock,
) -> None:
    server, port = inbox
    admin = token_for(mail_container, mail_tenant, CredentialKind.PERSONAL)
    emails = _invite_many(mail_client, admin, "many", 24)

    def sender() -> None:
        url = f"smtp://127.0.0.1:{port}"
        uow, sender_ = mail_container.uow(), mail_container.settings.mail_from
        while mail.deliver(uow, clock(), smtp_url=url, mail_from=sender_, limit=3):
            pass

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(m["To"] for m in server.messages if m["To"] in emails) == sorted(emails)


def test_a_message_whose_sender_died_is_sent_again_with_the_same_message_id_after_its_lease(
    mail_client: TestClient,
    mail_container: Container,
    mail_tenant: Tenant,
    inbox: tuple[Inbox, int],
    clock: Clock,
) -> None:
    server, port = inbox
    admin = token_for(mail_container, mail_tenant, CredentialKind.PERSONAL)
    [email] = _invite_many(mail_client, admin, "crash", 1)
    send_through(mail_container, port)  # whatever else is due leaves first
    [invitation] = _invite_many(mail_client, admin, "crashed", 1)
    with mail_container.uow() as uow:
        claimed = uow.mail.claim_due(clock(), mail.LEASE, limit=50)
        uow.commit()
    assert [r.to_address for r in claimed] == [invitation]  # then the sender dies
    send_through(mail_container, port)
    assert server.to(invitation) == []  # leased: nobody else sends it meanwhile
    clock.advance(seconds=mail.LEASE.total_seconds() + 1)
    send_through(mail_container, port)
    [message] = server.to(invitation)
    assert message["Message-ID"].startswith(f"<{claimed[0].message_key}@")
    items = mail_client.get("/api/v1/emails", headers=admin).json()["items"]
    [row] = [e for e in items if e["to"] == invitation]
    assert (row["status"], row["attempts"]) == ("sent", 2)
    assert server.to(email)
