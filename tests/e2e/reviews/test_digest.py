"""The daily review digest, on SQLite and PostgreSQL: one message a day to each
Active owner and admin listing the Blocked users due for review with a link to
each profile, never twice the same day, none when nothing is due or the workspace
turned it off, and none to a member."""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from roster.adapters import mailbox
from roster.bootstrap import Container
from roster.domain.vocabulary import Role, Status
from roster.services import queries
from roster.services.mail import render
from roster.services.review_digest import queue_digest, queue_digests
from tests.conftest import Tenant
from tests.e2e.admin.conftest import post_form, signed_in_admin
from tests.e2e.conftest import add_user
from tests.e2e.reviews.conftest import Clock, block


def _run_digest(timed: Container, tenant: Tenant) -> int:
    """The background tick's work for this workspace, as it is in the database now."""
    with timed.engine.connect() as conn:
        workspace = queries.workspace_by_id(conn, tenant.id)
    return queue_digest(timed.uow(), workspace, timed.clock(), timed.settings.public_url)


def _digests(api: TestClient, admin: dict[str, str]) -> list[dict[str, Any]]:
    r = api.get("/api/v1/emails", headers=admin)
    assert r.status_code == 200, r.text
    return [e for e in r.json()["items"] if e["kind"] == "review_digest"]


def test_a_due_review_sends_one_digest_to_each_owner_and_admin_with_links_to_each_profile(
    api: TestClient, admin: dict[str, str], timed: Container, tenant: Tenant, clock: Clock
) -> None:
    add_user(timed, tenant, "ada.admin@x.example", role=Role.ADMIN)
    add_user(timed, tenant, "gone.admin@x.example", role=Role.ADMIN, status=Status.INACTIVE)
    disputed = add_user(timed, tenant, "disputed@x.example")
    block(api, admin, disputed, "payment_dispute", note="card chargeback #4411")  # review in 14
    clock.advance(days=16)
    base = timed.settings.public_url.rstrip("/")

    assert _run_digest(timed, tenant) == 2
    digests = _digests(api, admin)
    assert sorted(e["to"] for e in digests) == ["ada.admin@x.example", tenant.owner.email]
    for email in digests:
        body = email["text_body"]
        assert f"{base}/admin/users/{disputed}" in body
        assert f"{base}/admin/blocked-users" in body
        assert "Disputed — reason: a payment dispute" in body
        assert str(clock.today - timedelta(days=2)) in body
        assert "overdue by 2 days" in body
        assert "chargeback" not in body  # an admin's note never leaves in a message
        assert tenant.workspace.name in email["subject"]


def test_the_digest_html_links_each_profile_and_the_blocked_accounts_page(
    api: TestClient, admin: dict[str, str], timed: Container, tenant: Tenant, clock: Clock
) -> None:
    user = add_user(timed, tenant, "html@x.example")
    block(api, admin, user, "needs_review")
    clock.advance(days=7)
    _run_digest(timed, tenant)
    [email] = _digests(api, admin)
    base = timed.settings.public_url.rstrip("/")
    with timed.engine.connect() as conn:
        [row] = [e for e in mailbox.page(conn, tenant.id) if e.kind == "review_digest"]
    _, html = render(row.kind, row.subject, row.context)
    assert f'href="{base}/admin/users/{user}"' in html
    assert f'href="{base}/admin/blocked-users"' in html
    assert "due today" in email["text_body"]


def test_running_the_digest_again_the_same_day_sends_nothing_more(
    api: TestClient, admin: dict[str, str], timed: Container, tenant: Tenant, clock: Clock
) -> None:
    add_user(timed, tenant, "second.owner@x.example", role=Role.OWNER)
    user = add_user(timed, tenant, "twice@x.example")
    block(api, admin, user, "needs_review")
    clock.advance(days=8)
    assert _run_digest(timed, tenant) == 2
    clock.advance(hours=3)  # the same day, later, or another server: every workspace's run
    queue_digests(timed.uow(), timed.clock(), timed.settings.public_url)
    assert _run_digest(timed, tenant) == 0
    assert len(_digests(api, admin)) == 2
    clock.advance(days=1)  # the next day, still overdue: a new digest each
    assert _run_digest(timed, tenant) == 2
    assert len(_digests(api, admin)) == 4


def test_no_digest_when_no_review_is_due(
    api: TestClient, admin: dict[str, str], timed: Container, tenant: Tenant, clock: Clock
) -> None:
    user = add_user(timed, tenant, "later@x.example")
    block(api, admin, user, "access_violation")  # review in 30 days
    clock.advance(days=29)
    assert _run_digest(timed, tenant) == 0
    assert _digests(api, admin) == []


def test_no_digest_when_the_workspace_turned_it_off_and_the_change_is_audited(
    api: TestClient, admin: dict[str, str], timed: Container, tenant: Tenant, clock: Clock
) -> None:
    r = api.patch("/api/v1/workspace", json={"review_digest": False}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["review_digest"] is False
    user = add_user(timed, tenant, "off@x.example")
    block(api, admin, user, "needs_review")
    clock.advance(days=10)
    assert _run_digest(timed, tenant) == 0
    assert _digests(api, admin) == []
    r = api.get("/api/v1/audit-events?kind=workspace.settings_changed", headers=admin)
    [event] = r.json()["items"]
    assert event["changes"] == {"review_digest": [True, False]}


def test_a_member_gets_no_digest(
    api: TestClient, admin: dict[str, str], timed: Container, tenant: Tenant, clock: Clock
) -> None:
    add_user(timed, tenant, "member@x.example", role=Role.MEMBER)
    user = add_user(timed, tenant, "blocked@x.example")
    block(api, admin, user, "unresolved_issue")
    clock.advance(days=14)
    assert _run_digest(timed, tenant) == 1
    [email] = _digests(api, admin)
    assert email["to"] == tenant.owner.email


def test_the_settings_page_turns_the_digest_off_with_its_checkbox(
    api: TestClient, timed: Container, tenant: Tenant
) -> None:
    signed_in_admin(api, timed, tenant)
    assert 'id="review_digest" checked' in api.get("/admin/settings").text
    form = {"notify_users_on_status_change": "on", "seat_limit": ""}
    saved = post_form(api, "/admin/settings", "/admin/settings", form)
    assert saved.status_code == 303
    assert 'id="review_digest" checked' not in api.get("/admin/settings").text
    with timed.engine.connect() as conn:
        assert queries.workspace_by_id(conn, tenant.id).review_digest is False
