"""The Blocked accounts page and the Record a review form on the dashboard, on
SQLite and PostgreSQL; then the same walk in Chromium."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

from roster.bootstrap import Container
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.entrypoints.web.app import create_app
from roster.services import queries
from roster.services.status import change_status
from tests.conftest import Tenant
from tests.e2e.admin.conftest import post_form, refused_on, signed_in_admin
from tests.e2e.admin.live import chromium, live_server
from tests.e2e.conftest import PASSWORD, add_user
from tests.e2e.reviews.conftest import Clock


def _block(container: Container, tenant: Tenant, user_id: str, reason: ReasonCode) -> None:
    change_status(
        container.uow(),
        workspace_id=tenant.id,
        user_id=user_id,
        to=Status.BLOCKED,
        route=Route.CLI,
        actor=Actor(None, "cli:test"),
        reason_code=reason,
        note="Held for review",
        now=container.clock(),
    )


@pytest.fixture
def dashboard(timed: Container) -> Iterator[TestClient]:
    with TestClient(create_app(timed)) as c:
        yield c


def test_the_page_lists_blocked_accounts_with_filters_and_links_to_profiles(
    dashboard: TestClient, timed: Container, tenant: Tenant, clock: Clock
) -> None:
    soon = add_user(timed, tenant, "soon@x.example")
    later = add_user(timed, tenant, "later@x.example")
    _block(timed, tenant, soon, ReasonCode.NEEDS_REVIEW)  # review in 7 days
    _block(timed, tenant, later, ReasonCode.OTHER)  # in 30
    clock.advance(days=8)
    signed_in_admin(dashboard, timed, tenant)
    page = dashboard.get("/admin/blocked-users")
    assert page.status_code == 200
    assert 'href="/admin/blocked-users"' in page.text  # the nav link
    assert page.text.index(f"/admin/users/{soon}") < page.text.index(f"/admin/users/{later}")
    assert "Held for review" in page.text
    for review in ("due", "overdue"):
        listed = dashboard.get(f"/admin/blocked-users?review={review}").text
        assert f"/admin/users/{soon}" in listed
        assert f"/admin/users/{later}" not in listed


def test_recording_a_review_on_the_profile_redirects_and_shows_the_new_date(
    dashboard: TestClient, timed: Container, tenant: Tenant, clock: Clock
) -> None:
    signed_in_admin(dashboard, timed, tenant)
    user = add_user(timed, tenant, "held@x.example")
    _block(timed, tenant, user, ReasonCode.PAYMENT_DISPUTE)
    profile = f"/admin/users/{user}"
    assert "Record a review" in dashboard.get(profile).text
    new_date = str(clock.today + timedelta(days=45))
    answer = post_form(
        dashboard,
        profile,
        f"{profile}/review",
        {"review_by": new_date, "review_note": "Bank still investigating"},
    )
    assert (answer.status_code, answer.headers["location"]) == (303, profile)
    shown = dashboard.get(profile).text
    assert f"stays Blocked until {new_date}" in shown
    assert re.search(rf'id="review-by">{new_date}<', shown)


def test_a_review_without_a_note_or_with_a_past_date_shows_the_error_by_the_field(
    dashboard: TestClient, timed: Container, tenant: Tenant
) -> None:
    signed_in_admin(dashboard, timed, tenant)
    user = add_user(timed, tenant, "held@x.example")
    _block(timed, tenant, user, ReasonCode.OTHER)
    profile = f"/admin/users/{user}"
    with timed.engine.connect() as conn:
        before = queries.user_by_id(conn, tenant.id, user).user.review_by
    no_note = post_form(dashboard, profile, f"{profile}/review", {"review_by": "2099-01-01"})
    assert no_note.status_code == 422
    assert 'id="review_note-error"' in no_note.text
    past = post_form(
        dashboard, profile, f"{profile}/review", {"review_by": "2001-01-01", "review_note": "x"}
    )
    assert past.status_code == 422
    assert 'id="review_by-error"' in past.text
    with timed.engine.connect() as conn:
        assert queries.user_by_id(conn, tenant.id, user).user.review_by == before


def test_a_review_without_the_csrf_token_is_refused(
    dashboard: TestClient, timed: Container, tenant: Tenant
) -> None:
    signed_in_admin(dashboard, timed, tenant)
    user = add_user(timed, tenant, "held@x.example")
    _block(timed, tenant, user, ReasonCode.OTHER)
    answer = dashboard.post(
        f"/admin/users/{user}/review", data={"review_by": "2099-01-01", "review_note": "x"}
    )
    assert answer.status_code == 403


@pytest.mark.browser
def test_an_admin_walks_from_blocked_accounts_to_a_profile_and_records_a_review(
    container: Container, tenant: Tenant
) -> None:
    add_user(container, tenant, "ada@x.example", role=Role.ADMIN)
    user = add_user(container, tenant, "mo@x.example")
    _block(container, tenant, user, ReasonCode.ACCESS_VIOLATION)
    new_date = (datetime.now(UTC).date() + timedelta(days=60)).isoformat()
    with chromium() as browser, live_server(container) as base_url:
        page = _signed_in(browser, base_url, tenant)
        page.get_by_role("link", name="Blocked accounts").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Blocked accounts")
        page.get_by_role("link", name="Mo", exact=True).click()
        expect(page.get_by_role("heading", level=2, name="Record a review")).to_be_visible()
        page.get_by_label("Keep blocked until").fill(new_date)
        page.get_by_label("Why the block stays (required)").fill("Investigation ongoing")
        page.get_by_role("button", name="Record review").click()
        expect(page.get_by_role("status")).to_have_text(
            f"Review recorded: Mo stays Blocked until {new_date}."
        )
        expect(page.locator("#review-by")).to_have_text(new_date)
        expect(page.locator("#status-line")).to_contain_text("Blocked")


def _signed_in(browser: Browser, base_url: str, tenant: Tenant) -> Page:
    page = browser.new_context().new_page()
    page.goto(f"{base_url}/admin/users")
    page.get_by_label("Workspace").fill(tenant.workspace.slug)
    page.get_by_label("Email").fill("ada@x.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    return page


def test_the_settings_page_changes_the_review_days_and_refuses_a_bad_one_by_its_field(
    dashboard: TestClient, timed: Container, tenant: Tenant
) -> None:
    signed_in_admin(dashboard, timed, tenant)
    form = {"seat_limit": "", "review_needs_review": "3", "review_other": "30"}
    saved = post_form(dashboard, "/admin/settings", "/admin/settings", form)
    assert saved.status_code == 303
    with timed.engine.connect() as conn:
        assert queries.workspace_by_id(conn, tenant.id).review_days == {
            "needs_review": 3,
            "other": 30,
        }
    bad = post_form(dashboard, "/admin/settings", "/admin/settings", {"review_other": "0"})
    assert 'id="review_other-error"' in refused_on(dashboard, bad, "/admin/settings")
    with timed.engine.connect() as conn:
        assert queries.workspace_by_id(conn, tenant.id).review_days == {
            "needs_review": 3,
            "other": 30,
        }


def test_blocking_on_the_profile_may_give_the_review_date(
    dashboard: TestClient, timed: Container, tenant: Tenant, clock: Clock
) -> None:
    signed_in_admin(dashboard, timed, tenant)
    user = add_user(timed, tenant, "pat@x.example")
    profile = f"/admin/users/{user}"
    block = {"to": "blocked", "reason_code": "other", "version": "1"}
    past = post_form(dashboard, profile, f"{profile}/status", {**block, "review_by": "2001-01-01"})
    assert 'id="review_by-error"' in refused_on(dashboard, past, profile)
    day = str(clock.today + timedelta(days=90))
    done = post_form(dashboard, profile, f"{profile}/status", {**block, "review_by": day})
    assert done.status_code == 303, done.text
    assert re.search(rf'id="review-by">{day}<', dashboard.get(profile).text)


def test_the_profile_sets_and_removes_the_day_an_account_ends(
    dashboard: TestClient, timed: Container, tenant: Tenant
) -> None:
    signed_in_admin(dashboard, timed, tenant)
    user = add_user(timed, tenant, "temp@x.example")
    profile = f"/admin/users/{user}"
    bad = post_form(dashboard, profile, f"{profile}/expiry", {"expires_on": "next week"})
    shown = refused_on(dashboard, bad, profile)
    assert 'id="expires_on-error"' in shown
    assert 'value="next week"' in shown
    saved = post_form(dashboard, profile, f"{profile}/expiry", {"expires_on": "2031-07-01"})
    assert (saved.status_code, saved.headers["location"]) == (303, profile)
    assert 'id="expires-at">2031-07-01 00:00 UTC<' in dashboard.get(profile).text
    post_form(dashboard, profile, f"{profile}/expiry", {"expires_on": ""})
    with timed.engine.connect() as conn:
        assert queries.user_by_id(conn, tenant.id, user).user.expires_at is None


def test_a_review_posted_after_the_block_was_lifted_changes_nothing_and_says_so(
    dashboard: TestClient, timed: Container, tenant: Tenant
) -> None:
    signed_in_admin(dashboard, timed, tenant)
    user = add_user(timed, tenant, "freed@x.example")
    profile = f"/admin/users/{user}"
    data = {"review_by": "2099-01-01", "review_note": "late"}
    answer = post_form(dashboard, profile, f"{profile}/review", data)
    assert (answer.status_code, answer.headers["location"]) == (303, profile)
    assert "no longer Blocked" in dashboard.get(profile).text
    with timed.engine.connect() as conn:
        assert queries.user_by_id(conn, tenant.id, user).user.review_by is None
