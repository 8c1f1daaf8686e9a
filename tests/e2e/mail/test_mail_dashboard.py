"""The dashboard's side of mail: the Emails page, and the setting that sends notices."""

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from tests.conftest import Tenant
from tests.e2e.admin.conftest import post_form, signed_in_admin
from tests.e2e.conftest import add_user, token_for


def test_the_emails_page_shows_each_kept_message_with_recipient_subject_state_and_body(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    admin = token_for(mail_container, mail_tenant, CredentialKind.PERSONAL)
    made = mail_client.post(
        "/api/v1/invitations", json={"email": "shown@people.example"}, headers=admin
    ).json()
    signed_in_admin(mail_client, mail_container, mail_tenant)
    page = mail_client.get("/admin/emails")
    assert page.status_code == 200
    assert "shown@people.example" in page.text
    assert f"You are invited to {mail_tenant.workspace.name}" in page.text
    assert "Queued" in page.text
    assert made["accept_url"] in page.text
    assert "No SMTP server is configured" in page.text
    assert "shown@people.example" not in mail_client.get("/admin/emails?status=sent").text


def test_turning_notices_off_in_settings_sends_none_and_is_audited(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    admin = token_for(mail_container, mail_tenant, CredentialKind.PERSONAL)
    user = add_user(mail_container, mail_tenant, "quiet@people.example")
    signed_in_admin(mail_client, mail_container, mail_tenant)
    saved = post_form(mail_client, "/admin/settings", "/admin/settings", {})
    assert saved.status_code == 303
    workspace = mail_client.get("/api/v1/workspace", headers=admin).json()
    assert workspace["notify_users_on_status_change"] is False
    mail_client.put(f"/api/v1/users/{user}/status", json={"status": "inactive"}, headers=admin)
    emails = mail_client.get("/api/v1/emails", headers=admin).json()["items"]
    assert "quiet@people.example" not in [e["to"] for e in emails]
    events = mail_client.get(
        "/api/v1/audit-events", params={"kind": "workspace.settings_changed"}, headers=admin
    ).json()["items"]
    assert events[0]["changes"]["notify_users_on_status_change"] == [True, False]


def test_notices_can_be_turned_back_on_through_the_api(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    admin = token_for(mail_container, mail_tenant, CredentialKind.PERSONAL)
    off = {"notify_users_on_status_change": False}
    r = mail_client.patch("/api/v1/workspace", json=off, headers=admin)
    assert r.json()["notify_users_on_status_change"] is False
    r = mail_client.patch(
        "/api/v1/workspace", json={"notify_users_on_status_change": True}, headers=admin
    )
    assert r.json()["notify_users_on_status_change"] is True
