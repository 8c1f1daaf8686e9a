"""The dashboard's Webhooks page: over HTTP (forms, CSRF, messages next to the
field) and in Debian's Chromium (subscribe, copy the secret once, test, retry)."""

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from roster.bootstrap import Container
from roster.domain.vocabulary import Role
from tests.conftest import Tenant
from tests.e2e.admin.conftest import post_form, signed_in_admin
from tests.e2e.admin.live import live_server
from tests.e2e.conftest import PASSWORD, add_user
from tests.e2e.webhooks.kit import Receiver, allowing, deliver, receiving


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as state:
        yield state


def test_the_form_says_why_an_address_is_refused_next_to_the_field_and_saves_nothing(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    page = post_form(
        client,
        "/admin/webhooks",
        "/admin/webhooks",
        {"url": "http://192.168.1.9/hook", "events": "user.status_changed"},
    )
    assert page.status_code == 422
    assert 'id="url-error"' in page.text
    assert "192.168.1.9 is a private address" in page.text
    none = post_form(
        client, "/admin/webhooks", "/admin/webhooks", {"url": "https://hooks.example/x"}
    )
    assert none.status_code == 422
    assert 'id="events-error"' in none.text
    assert "No endpoints yet" in client.get("/admin/webhooks").text


def test_a_form_without_the_csrf_token_is_refused(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    r = client.post(
        "/admin/webhooks",
        data={"url": "https://hooks.example/x", "events": "*"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert "No endpoints yet" in client.get("/admin/webhooks").text


def test_the_secret_is_shown_once_and_another_workspaces_endpoint_is_not_found(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    made = post_form(
        client,
        "/admin/webhooks",
        "/admin/webhooks",
        {"url": "https://hooks.example/x", "events": "*"},
    )
    assert made.status_code == 303
    endpoint_page = client.get(made.headers["location"])
    secret = re.search(r'id="new-secret">(whsec_[^<]+)<', endpoint_page.text)
    assert secret is not None
    assert "whsec_" not in client.get(made.headers["location"]).text  # once
    assert client.get("/admin/webhooks/whe_nothere").status_code == 404


@pytest.mark.browser
def test_an_admin_subscribes_sees_the_secret_once_sends_a_test_and_retries_it(
    page: Page, container: Container, tenant: Tenant, receiver: Receiver
) -> None:
    developer = allowing(container)
    add_user(developer, tenant, "ada@x.example", role=Role.ADMIN)
    with live_server(developer) as base_url:
        page.goto(f"{base_url}/admin/sign-in")
        page.get_by_label("Workspace").fill(tenant.workspace.slug)
        page.get_by_label("Email").fill("ada@x.example")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Password").press("Enter")
        page.get_by_role("navigation").get_by_role("link", name="Webhooks").click()
        expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
        page.get_by_label("URL").fill(receiver.url)
        page.locator('input[name="events"][value="user.status_changed"]').check()
        page.get_by_role("button", name="Add endpoint").click()
        expect(page.locator("#new-secret")).to_contain_text("whsec_")
        page.reload()
        expect(page.locator("#new-secret")).to_have_count(0)
        page.get_by_role("button", name="Send a test event").click()
        expect(page.get_by_text("Test event queued")).to_be_visible()
        assert deliver(developer, developer.clock()) == 1
        page.reload()
        expect(page.locator("ol.attempts li")).to_contain_text("200")
        page.get_by_role("button", name=re.compile("^Send webhook.test")).click()
        expect(page.get_by_text("Delivery queued again")).to_be_visible()
        assert deliver(developer, developer.clock()) == 1
        page.reload()
        expect(page.locator("ol.attempts li")).to_have_count(2)
    (first, _), (second, _) = receiver.got
    assert first["webhook-id"] == second["webhook-id"]
