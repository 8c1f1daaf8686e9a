"""The dashboard's side of mail: the Emails page, and the setting that sends notices."""

import re

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import Status
from tests.conftest import Tenant
from tests.e2e.admin.conftest import post_form, refused_on, signed_in_admin
from tests.e2e.conftest import add_user, token_for
from tests.e2e.mail.conftest import PUBLIC_URL


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


def test_an_admin_invites_from_the_dashboard_then_resends_and_revokes(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    signed_in_admin(mail_client, mail_container, mail_tenant)
    form = {"email": "guest@people.example", "name": "Guest", "role": "member"}
    sent = post_form(mail_client, "/admin/invitations", "/admin/invitations", form)
    assert sent.status_code == 303
    page = mail_client.get("/admin/invitations")
    assert "guest@people.example" in page.text
    [first] = re.findall(r"/invitations/(inv_\w+)/resend", page.text)
    post_form(mail_client, "/admin/invitations", f"/admin/invitations/{first}/resend", {})
    [second] = re.findall(r"/invitations/(inv_\w+)/resend", mail_client.get(page.url).text)
    assert second != first
    links = re.findall(rf"{PUBLIC_URL}/invitations/\S+", mail_client.get("/admin/emails").text)
    assert len(set(links)) == 2  # one email per invitation, each with its own link
    assert mail_client.get(links[0]).status_code == 200  # the newest works
    assert mail_client.get(links[1]).status_code == 404  # the replaced one does not
    post_form(mail_client, "/admin/invitations", f"/admin/invitations/{second}/revoke", {})
    assert "guest@people.example" not in mail_client.get("/admin/invitations").text


def test_a_blocked_users_address_cannot_be_invited_and_the_reason_shows_by_the_field(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    add_user(mail_container, mail_tenant, "held@people.example", status=Status.BLOCKED)
    signed_in_admin(mail_client, mail_container, mail_tenant)
    form = {"email": "held@people.example", "role": "member"}
    refused = post_form(mail_client, "/admin/invitations", "/admin/invitations", form)
    shown = refused_on(mail_client, refused, "/admin/invitations")
    assert 'id="email-error"' in shown
    assert "Blocked" in shown
    bad = post_form(mail_client, "/admin/invitations", "/admin/invitations", {"email": "x@"})
    assert 'id="role-error"' in refused_on(mail_client, bad, "/admin/invitations")


def test_an_invitation_can_be_resent_through_the_api_with_a_new_link(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    admin = token_for(mail_container, mail_tenant, CredentialKind.PERSONAL)
    made = mail_client.post(
        "/api/v1/invitations", json={"email": "again@people.example"}, headers=admin
    ).json()
    again = mail_client.post(f"/api/v1/invitations/{made['id']}/resend", headers=admin)
    assert again.status_code == 201
    assert again.json()["accept_url"] != made["accept_url"]
    assert mail_client.get(made["accept_url"]).status_code == 404
    gone = mail_client.post(f"/api/v1/invitations/{made['id']}/resend", headers=admin)
    assert (gone.status_code, gone.json()["code"]) == (404, "not_found")
    sent = mail_client.get("/api/v1/emails", headers=admin).json()["items"]
    assert [e["to"] for e in sent].count("again@people.example") == 2
