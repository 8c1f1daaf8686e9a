"""The dashboard in Debian's Chromium, driven by Playwright, against a real server."""

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import Role
from tests.conftest import Tenant
from tests.e2e.conftest import PASSWORD, add_user, token_for

pytestmark = pytest.mark.browser


def active_count(page: Page, base_url: str) -> int:
    page.goto(f"{base_url}/admin/users")
    return int(page.locator('[data-count="active"]').inner_text())


def save_status(page: Page) -> None:
    page.get_by_role("button", name="Save status").click()


def test_an_admin_blocks_and_unblocks_a_user_in_the_browser(
    page: Page, base_url: str, container: Container, tenant: Tenant
) -> None:
    add_user(container, tenant, "ada@x.example", role=Role.ADMIN)
    uid = add_user(container, tenant, "bo@x.example")

    # Sign in, by keyboard: the first Tab lands on the skip link.
    page.goto(f"{base_url}/admin/users")
    expect(page).to_have_url(re.compile(r"/admin/sign-in"))
    page.get_by_label("Workspace").fill(tenant.workspace.slug)
    page.get_by_label("Email").fill("ada@x.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    before = active_count(page, base_url)

    # Block without a reason: refused, the message next to the field.
    page.get_by_role("link", name="Bo", exact=True).click()
    expect(page.locator("label.choice", has_text="Blocked")).to_contain_text(
        f"Active users: {before} → {before - 1}"
    )
    page.get_by_role("radio", name=re.compile("^Blocked")).check()
    save_status(page)
    expect(page.locator("#reason_code-error")).to_have_text("Blocking a user needs a reason code.")

    # With a reason: applied; the Status line and the count say so.
    page.get_by_role("radio", name=re.compile("^Blocked")).check()
    page.get_by_label("Reason (required to block)").select_option("payment_dispute")
    page.get_by_label("Note").fill("Chargeback on invoice 42")
    save_status(page)
    expect(page.get_by_role("status")).to_have_text("Bo is now Blocked.")
    expect(page.locator("#status-line")).to_contain_text("Blocked")
    expect(page.locator("#status-line")).to_contain_text("Payment dispute")
    assert active_count(page, base_url) == before - 1

    # An integration's service token cannot unblock: 409 user_blocked, audited.
    service = token_for(container, tenant, CredentialKind.SERVICE)
    answer = httpx.put(
        f"{base_url}/api/v1/users/{uid}/status", json={"status": "active"}, headers=service
    )
    assert (answer.status_code, answer.json()["code"]) == (409, "user_blocked")
    page.goto(f"{base_url}/admin/users/{uid}")
    refusal = page.locator("#history tr", has_text="Refused: this user is Blocked")
    expect(refusal).to_contain_text("automation")

    # Lift the block with a note and the admin's own password.
    page.get_by_role("radio", name=re.compile("^Active")).check()
    page.get_by_label(re.compile("^Note")).fill("Dispute resolved")
    page.get_by_label("Your password (required to lift the block)").fill("wrong password")
    save_status(page)
    expect(page.locator("#password-error")).to_have_text(
        "That is not your password. Nothing was changed."
    )
    page.get_by_role("radio", name=re.compile("^Active")).check()
    page.get_by_label(re.compile("^Note")).fill("Dispute resolved")
    page.get_by_label("Your password (required to lift the block)").fill(PASSWORD)
    save_status(page)
    expect(page.get_by_role("status")).to_have_text("Bo is now Active.")
    assert active_count(page, base_url) == before

    # A POST without the form's CSRF token, with the session cookie: refused.
    forged = page.request.post(
        f"{base_url}/admin/users/{uid}/status",
        form={"to": "inactive", "version": "5"},
    )
    assert forged.status == 403
    page.goto(f"{base_url}/admin/users/{uid}")
    expect(page.locator("#status-line")).to_contain_text("Active")
