"""The dashboard in Debian's Chromium: on a phone-sized screen, in dark mode, and
after a refused form (Post/Redirect/Get)."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from roster.bootstrap import Container
from roster.domain.vocabulary import Role, Status
from tests.conftest import Tenant
from tests.e2e.conftest import PASSWORD, add_user

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
PAGES = [
    "/admin/users",
    "/admin/users?sort=-last_seen_at",
    "/admin/audit",
    "/admin/settings",
    "/admin/tokens",
    "/admin/invitations",
    "/admin/blocked-users",
    "/admin/bulk-actions",
    "/admin/automations",
    "/admin/billing",
]


def signed_in(browser: Browser, base_url: str, tenant: Tenant, **context: object) -> Page:
    page = browser.new_context(**context).new_page()  # type: ignore[arg-type]
    page.goto(f"{base_url}/admin/sign-in")
    page.get_by_label("Workspace").fill(tenant.workspace.slug)
    page.get_by_label("Email").fill("ada@x.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    return page


def people(container: Container, tenant: Tenant) -> str:
    add_user(container, tenant, "ada@x.example", role=Role.ADMIN)
    add_user(container, tenant, "a.very.long.address.for.a.narrow.screen@people.example")
    return add_user(container, tenant, "bo@x.example", status=Status.BLOCKED)


def overflow(page: Page) -> int:
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width


def test_on_a_phone_nothing_spills_sideways_and_the_navigation_is_one_scrolling_row(
    browser: Browser, base_url: str, container: Container, tenant: Tenant
) -> None:
    blocked = people(container, tenant)
    page = signed_in(browser, base_url, tenant, viewport=PHONE)
    for path in [*PAGES, f"/admin/users/{blocked}"]:
        page.goto(f"{base_url}{path}")
        assert overflow(page) <= PHONE["width"], path
    page.goto(f"{base_url}/admin/users")
    nav = page.get_by_role("navigation", name="Dashboard").locator("ul")
    box = nav.bounding_box()
    assert box is not None
    assert box["height"] < 60  # one row, not ten stacked links
    assert nav.evaluate("ul => ul.scrollWidth > ul.clientWidth")  # the rest scrolls into view
    table = page.locator("main table").first
    assert table.evaluate("t => getComputedStyle(t).overflowX") == "auto"
    assert table.evaluate("t => t.scrollWidth > t.clientWidth")  # scrolls in its own box
    page.context.close()


def luminance(page: Page) -> float:
    """The body's background brightness, 0 (black) to 255 (white)."""
    color: str = page.evaluate("getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(v) for v in re.findall(r"\d+", color)[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def test_dark_mode_follows_the_system_and_light_stays_light(
    browser: Browser, base_url: str, container: Container, tenant: Tenant
) -> None:
    people(container, tenant)
    page = signed_in(browser, base_url, tenant, viewport=PHONE)
    page.emulate_media(color_scheme="light")
    assert luminance(page) > 200
    page.emulate_media(color_scheme="dark")
    assert luminance(page) < 50
    text: str = page.evaluate("getComputedStyle(document.body).color")
    assert sum(int(v) for v in re.findall(r"\d+", text)[:3]) > 450  # light text on it
    page.context.close()


def test_a_refused_form_shows_its_message_on_the_get_page_and_a_reload_sends_nothing(
    browser: Browser, base_url: str, container: Container, tenant: Tenant
) -> None:
    people(container, tenant)
    page = signed_in(browser, base_url, tenant)
    page.goto(f"{base_url}/admin/tokens")
    page.get_by_label("For", exact=True).select_option("service")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#name-error")).to_have_text("A service or scim token needs a name.")
    assert page.url == f"{base_url}/admin/tokens"  # the GET page, not the POST's answer
    expect(page.get_by_label("For", exact=True)).to_have_value("service")  # what was chosen, kept
    with page.expect_request(f"{base_url}/admin/tokens") as sent:
        page.reload()
    assert sent.value.method == "GET"  # no "resend the form?" and no second POST
    expect(page.locator("#name-error")).to_have_count(0)  # the message showed once

    # The profile's status form: the message by its field, the choice kept.
    page.goto(f"{base_url}/admin/users")
    page.get_by_role("link", name="Bo", exact=True).click()
    profile = page.url
    page.get_by_role("radio", name=re.compile("^Inactive")).check()
    page.get_by_role("button", name="Save status").click()
    expect(page.locator("#password-error")).to_have_text(
        "Enter your own password to confirm lifting the block."
    )
    assert page.url == profile
    expect(page.get_by_role("radio", name=re.compile("^Inactive"))).to_be_checked()
    page.context.close()
