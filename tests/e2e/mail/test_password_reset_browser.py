"""'Forgot your password?' in Debian's Chromium: from the sign-in page, through the
emailed link, to signing in with the new password."""

import re

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import Role
from tests.conftest import Tenant
from tests.e2e.admin.live import live_server
from tests.e2e.conftest import add_user, token_for
from tests.e2e.mail.conftest import PUBLIC_URL

pytestmark = pytest.mark.browser
NEW = "a new and longer passphrase"


def _emailed_link(client: TestClient, container: Container, tenant: Tenant, to: str) -> str:
    """The reset link as the email carries it (under ROSTER_PUBLIC_URL)."""
    admin = token_for(container, tenant, CredentialKind.PERSONAL)
    items = client.get("/api/v1/emails", headers=admin).json()["items"]
    [body] = [e["text_body"] for e in items if e["to"] == to]
    found = re.search(rf"{PUBLIC_URL}(/admin/password-reset/\S+)", body)
    assert found, body
    return found.group(1)


def test_forgot_password_from_the_sign_in_page_to_signing_in_with_the_new_one(
    page: Page, mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    add_user(mail_container, mail_tenant, "ada@people.example", role=Role.ADMIN)
    with live_server(mail_container) as base_url:
        page.goto(f"{base_url}/admin/sign-in")
        page.get_by_role("link", name="Forgot your password?").click()
        page.get_by_label("Workspace").fill(mail_tenant.workspace.slug)
        page.get_by_label("Email").fill("ada@people.example")
        page.get_by_role("button", name="Email me a link").click()
        expect(page.locator("#reset-asked")).to_contain_text("is on its way")

        path = _emailed_link(mail_client, mail_container, mail_tenant, "ada@people.example")
        page.goto(f"{base_url}{path}")
        page.get_by_label("New password").fill(NEW)
        page.get_by_label("Repeat it").fill(NEW)
        page.get_by_role("button", name="Set my password").click()
        expect(page).to_have_url(re.compile(r"/admin/sign-in$"))
        expect(page.get_by_text("Your password is changed.")).to_be_visible()

        page.get_by_label("Workspace").fill(mail_tenant.workspace.slug)
        page.get_by_label("Email").fill("ada@people.example")
        page.get_by_label("Password").fill(NEW)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/admin/users"))
