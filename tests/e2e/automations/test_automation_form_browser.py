"""The automation editor in Debian's Chromium: a rule made and changed with the form
alone (no JSON typed), its plain words kept in step, errors next to the field."""

import re
from collections.abc import Iterator
from datetime import time

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from roster.bootstrap import Container
from roster.domain.rules.runs import Rule
from roster.domain.vocabulary import Role, Status
from roster.services import automations as auto
from tests.conftest import Tenant
from tests.e2e.conftest import PASSWORD, add_user

pytestmark = pytest.mark.browser

DORMANT_WORDS = "Every day at 03:00, Active users not seen for 90 days become Inactive."


@pytest.fixture
def page(browser: Browser, base_url: str, container: Container, tenant: Tenant) -> Iterator[Page]:
    """A signed-in admin's page."""
    add_user(container, tenant, "ada@x.example", role=Role.ADMIN)
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base_url}/admin/sign-in")
    page.get_by_label("Workspace").fill(tenant.workspace.slug)
    page.get_by_label("Email").fill("ada@x.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    yield page
    context.close()


def row(page: Page, i: int) -> Locator:
    return page.locator("#condition-rows > li").nth(i)


def words(page: Page) -> Locator:
    return page.locator("#rule-words")


def rules_of(container: Container, tenant: Tenant) -> list[Rule]:
    return auto.list_rules(container.uow(), tenant.workspace.id)


def test_an_admin_makes_the_dormant_user_rule_with_the_form_alone(
    page: Page, base_url: str, container: Container, tenant: Tenant
) -> None:
    page.goto(f"{base_url}/admin/automations/new")
    # Start from nothing: drop the template's conditions, then build the rule up.
    page.locator("#condition-rows [data-remove]").first.click()
    page.locator("#condition-rows [data-remove]").first.click()
    page.locator("#condition-rows [data-remove]").first.click()
    expect(page.locator("#condition-rows > li")).to_have_count(0)
    page.get_by_label("Name", exact=True).fill("Dormant users")
    page.get_by_label("Every day at").check()
    page.get_by_label("Time of day").fill("03:00")

    page.get_by_role("button", name="Add a condition").click()
    first = row(page, 0)
    first.get_by_label("What to compare").select_option("status")
    expect(first.get_by_label("Number of days")).to_be_hidden()
    first.get_by_label("Status is or is not").select_option("in")
    first.get_by_label("Active", exact=True).check()

    page.get_by_role("button", name="Add a condition").click()
    second = row(page, 1)
    second.get_by_label("What to compare").select_option("last_seen_days")
    expect(second.get_by_label("Active", exact=True)).to_be_hidden()
    expect(second.locator("[data-suffix-text]")).to_have_text("days ago")
    second.get_by_label("More or less than").select_option("gt")
    second.get_by_label("Number of days").fill("30")
    expect(words(page)).to_have_text(
        "Every day at 03:00, Active users not seen for 30 days become Inactive."
    )
    second.get_by_label("Number of days").fill("90")

    page.get_by_label("Set the status to").check()
    page.get_by_label("New status").select_option("inactive")
    page.get_by_label("Reason").select_option("needs_review")
    page.get_by_label("Note").fill("Not seen for 90 days")
    # The words follow the form as it changes, before anything is saved.
    expect(words(page)).to_have_text(DORMANT_WORDS)
    page.get_by_text("Advanced: the rule as JSON").click()
    expect(page.get_by_label("Rule (trigger, conditions, action)")).to_have_value(
        re.compile(r'"name": "Dormant users".*"reason_code": "needs_review"', re.DOTALL)
    )
    assert rules_of(container, tenant) == []

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Automation saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dormant users")
    expect(page.locator("p.card")).to_contain_text(DORMANT_WORDS)
    (rule,) = rules_of(container, tenant)
    assert rule.definition.as_json() == {
        "name": "Dormant users",
        "enabled": True,
        "personal": False,
        "trigger": {"type": "schedule", "daily_at": "03:00"},
        "conditions": [
            {"field": "status", "op": "in", "value": ["active"]},
            {"field": "last_seen_days", "op": "gt", "value": 90},
        ],
        "action": {
            "type": "set_status",
            "status": "inactive",
            "reason_code": "needs_review",
            "note": "Not seen for 90 days",
        },
    }


def test_a_bad_number_of_days_is_shown_next_to_its_field_and_nothing_is_saved(
    page: Page, base_url: str, container: Container, tenant: Tenant
) -> None:
    page.goto(f"{base_url}/admin/automations/new")
    days_row = row(page, 1)  # the template's "last seen more than 90 days ago"
    days_row.get_by_label("Number of days").fill("-3")
    expect(words(page)).to_have_text(re.compile("^Not complete yet: Must be a whole number"))
    page.get_by_label("Name", exact=True).fill("Keeps its name")
    page.get_by_role("button", name="Save", exact=True).click()

    error = page.locator("#cond-1-error")
    expect(error).to_have_text("Must be a whole number of days, 0 to 36500.")
    expect(days_row.locator("#cond-1-error")).to_be_visible()
    expect(days_row.get_by_label("Number of days")).to_have_attribute("aria-invalid", "true")
    # The form comes back with what was typed, the other rows untouched.
    expect(days_row.get_by_label("Number of days")).to_have_value("-3")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Keeps its name")
    expect(row(page, 0).get_by_label("Active", exact=True)).to_be_checked()
    assert rules_of(container, tenant) == []

    days_row.get_by_label("Number of days").fill("45")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Automation saved.")
    expect(page.locator("p.card")).to_contain_text(
        "Every day at 03:00, Active users not seen for 45 days become Inactive."
    )


def test_an_admin_edits_a_saved_rule_through_the_form(
    page: Page, base_url: str, container: Container, tenant: Tenant
) -> None:
    page.goto(f"{base_url}/admin/automations/new")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Automation saved.")
    page.get_by_role("link", name="Edit").click()

    # The saved rule comes back in the form's fields.
    expect(page.get_by_label("Every day at")).to_be_checked()
    expect(page.get_by_label("Time of day")).to_have_value("03:00")
    expect(row(page, 0).get_by_label("Active", exact=True)).to_be_checked()
    expect(row(page, 1).get_by_label("Number of days")).to_have_value("90")

    page.get_by_label("Every", exact=True).check()
    page.get_by_label("Minutes between runs").fill("120")
    row(page, 0).get_by_label("Status is or is not").select_option("not_in")
    row(page, 0).get_by_label("Active", exact=True).uncheck()
    row(page, 0).get_by_label("Blocked").check()
    row(page, 1).get_by_label("What to compare").select_option("email_domain")
    row(page, 1).get_by_label("Email domains, separated by commas").fill("old.example")
    page.get_by_label("Send a webhook to").check()
    page.get_by_label("Webhook URL").fill("https://hooks.example.com/roster")
    expected = (
        "Every 2 hours, Active or Inactive users with an email at old.example "
        "are sent to https://hooks.example.com/roster."
    )
    expect(words(page)).to_have_text(expected)
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.get_by_role("status")).to_have_text("Automation saved.")
    expect(page.locator("p.card")).to_contain_text(expected)
    (rule,) = rules_of(container, tenant)
    assert rule.definition.trigger.every_minutes == 120
    assert [c.as_json() for c in rule.definition.conditions] == [
        {"field": "status", "op": "in", "value": ["active", "inactive"]},
        {"field": "email_domain", "op": "eq", "value": "old.example"},
    ]


def test_the_advanced_json_is_saved_as_is_and_its_errors_shown_under_it(
    page: Page, base_url: str, container: Container, tenant: Tenant
) -> None:
    page.goto(f"{base_url}/admin/automations/new")
    page.get_by_text("Advanced: the rule as JSON").click()
    box = page.get_by_label("Rule (trigger, conditions, action)")
    box.fill(box.input_value().replace('"03:00"', '"3am"'))
    page.get_by_role("button", name="Save the JSON").click()
    expect(page.locator("#definition-error")).to_have_text(
        'trigger.daily_at: must be a time "HH:MM", 00:00 to 23:59.'
    )
    assert rules_of(container, tenant) == []
    box.fill(box.input_value().replace('"3am"', '"04:30"'))
    expect(words(page)).to_have_text(
        "Every day at 04:30, Active users not seen for 90 days become Inactive."
    )
    page.get_by_role("button", name="Save the JSON").click()
    expect(page.get_by_role("status")).to_have_text("Automation saved.")
    assert rules_of(container, tenant)[0].definition.trigger.daily_at == time(4, 30)


def test_a_dry_run_says_what_would_change_and_what_would_be_refused(
    page: Page, base_url: str, container: Container, tenant: Tenant
) -> None:
    add_user(container, tenant, "bo@x.example", status=Status.BLOCKED)
    add_user(container, tenant, "cy@x.example")
    page.goto(f"{base_url}/admin/automations/new")
    row(page, 0).get_by_label("Blocked").check()
    row(page, 1).get_by_label("What to compare").select_option("role")
    row(page, 1).get_by_label("Member").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Automation saved.")

    page.get_by_role("button", name="Dry run (preview)").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dry run")
    summary = page.locator("ul.card")
    expect(summary).to_contain_text("Would change: 1")
    expect(summary).to_contain_text("Would be refused: 1")
    outcomes = page.get_by_role("table")
    expect(outcomes.get_by_role("row", name=re.compile("bo@x.example"))).to_contain_text(
        "would be refused: User blocked"
    )
    expect(outcomes.get_by_role("row", name=re.compile("cy@x.example"))).to_contain_text(
        "would change"
    )
    expect(page.locator("main")).not_to_contain_text("applied")
    page.get_by_role("link", name="Back to the rule").click()
    runs = page.get_by_role("table")
    expect(runs).to_contain_text("would change: 1")
    expect(runs).to_contain_text("would be refused: 1")
    expect(page.locator("main")).not_to_contain_text(re.compile("applied", re.IGNORECASE))
