"""Bulk actions in Debian's Chromium: select every user a filter matches (more than
one page), see who would be refused and why, run it, and read the job's page."""

import re

import pytest
from playwright.sync_api import Page, expect

from roster.bootstrap import Container
from roster.domain.vocabulary import Role, Status
from roster.entrypoints.web.background import run_bulk_jobs
from tests.conftest import Tenant
from tests.e2e.conftest import PASSWORD, add_user

pytestmark = pytest.mark.browser

MEMBERS, BLOCKED = 55, 22  # with the admin: 78 users match, more than a page of 50


def sign_in(page: Page, base_url: str, tenant: Tenant) -> None:
    page.goto(f"{base_url}/admin/sign-in")
    page.get_by_label("Workspace").fill(tenant.workspace.slug)
    page.get_by_label("Email").fill("ada@x.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")


def test_an_admin_selects_every_matching_user_and_sees_who_would_be_refused(
    page: Page, base_url: str, container: Container, tenant: Tenant
) -> None:
    add_user(container, tenant, "ada@x.example", role=Role.ADMIN)
    for n in range(MEMBERS):
        add_user(container, tenant, f"m{n:02}@x.example")
    for n in range(BLOCKED):
        add_user(container, tenant, f"b{n:02}@x.example", status=Status.BLOCKED)
    sign_in(page, base_url, tenant)

    # Search: the page shows 50 of the 78 matching users; select all 78.
    page.get_by_label("Search by email or name").fill("x.example")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("tbody tr")).to_have_count(50)
    page.get_by_role("button", name="Select all 78 users matching this filter").click()

    # Confirm: choose Inactive, preview.
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm bulk action")
    expect(page.locator("main")).to_contain_text("“x.example” in email or name")
    page.get_by_label("Set status to").select_option("inactive")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("[data-selected]")).to_have_text("78")
    preview = page.locator("section", has=page.get_by_role("heading", name=re.compile("Preview")))
    expect(preview).to_contain_text("Would change: 55")
    expect(preview).to_contain_text("Would be refused: 23")  # 22 Blocked, and ada herself

    # The users who would be refused: the first 20 by name, and how many more.
    refused = page.locator("[data-refused] li")
    expect(refused).to_have_count(20)
    expect(preview).to_contain_text("and 3 more.")
    blocked = refused.filter(has_text="Refused: this user is Blocked")
    assert blocked.count() >= 19
    expect(blocked.first).to_contain_text(re.compile(r"B\d\d \(b\d\d@x\.example\)"))
    expect(blocked.first.locator("[title]")).to_have_attribute("title", "code: user_blocked")
    expect(preview).to_contain_text("Active users: 57 → 2")

    # Start it: the job page says what the preview said, in the same words.
    page.get_by_role("button", name="Start: set 55 users to Inactive").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bulk action: set to Inactive")
    run_bulk_jobs(container)
    page.reload()
    expect(page.locator("main")).to_contain_text("78 of 78 users done.")
    expect(page.locator("main")).to_contain_text("Active users 57 → 2.")
    expect(page.locator("main")).not_to_contain_text("-55")
