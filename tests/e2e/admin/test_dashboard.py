"""The dashboard through HTTP, as an admin's browser sees it (no JavaScript)."""

import csv
import html
import io
import re

import pytest
from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import Role, Route, Status
from roster.services.users import NewUser, add_users
from tests.conftest import Tenant, new_tenant
from tests.e2e.admin.conftest import (
    csrf_of,
    post_form,
    refused_on,
    sign_in,
    signed_in_admin,
)
from tests.e2e.conftest import PASSWORD, add_user, token_for

ERROR = re.compile(r'class="error"[^>]*>([^<]*)<')
FLASH = re.compile(r'class="flash"[^>]*>([^<]*)<')


def errors_on(html: str) -> list[str]:
    return ERROR.findall(html)


def count_of(html: str, status: str) -> int:
    found = re.search(rf'data-count="{status}">(\d+)<', html)
    assert found
    return int(found.group(1))


def status_line(html: str) -> str:
    found = re.search(r'id="status-line">(.*?)</dl>', html, re.S)
    assert found
    return re.sub(r"<[^>]+>|\s+", " ", found.group(1))


def change(client: TestClient, uid: str, **data: str) -> str:
    """Post the profile's status form; return the page shown afterwards."""
    page = client.get(f"/admin/users/{uid}")
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    answer = client.post(
        f"/admin/users/{uid}/status",
        data={"version": version.group(1), "csrf_token": csrf_of(page), **data},
    )
    return answer.text


# --- signing in --------------------------------------------------------------------


def test_pages_send_a_visitor_to_sign_in(client: TestClient) -> None:
    answer = client.get("/admin/users", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/sign-in?next=/admin/users"


def test_a_wrong_password_gets_one_plain_message(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    add_user(container, tenant, "ada@x.example", role=Role.ADMIN)
    answer = sign_in(client, tenant, "ada@x.example", "wrong")
    assert answer.status_code == 401
    assert errors_on(answer.text) == ["The workspace, email or password is not right."]
    assert "roster_session" not in answer.cookies


def test_a_member_cannot_use_the_dashboard(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    add_user(container, tenant, "mo@x.example")
    answer = sign_in(client, tenant, "mo@x.example")
    assert answer.status_code == 403
    assert "Only owners and admins" in answer.text


def test_sign_in_sets_a_hardened_cookie_and_rotates_it(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    first = client.cookies["roster_session"]
    again = sign_in(client, tenant, "ada@x.example")
    cookie = again.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/admin" in cookie
    assert client.cookies["roster_session"] != first
    stale = TestClient(client.app, cookies={"roster_session": first})
    assert stale.get("/admin/users", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    token = client.cookies["roster_session"]
    answer = post_form(client, "/admin/sign-out", "/admin/sign-out", {})
    assert answer.headers["location"] == "/admin/sign-in"
    replay = TestClient(client.app, cookies={"roster_session": token})
    assert replay.get("/admin/users", follow_redirects=False).status_code == 303


def test_a_blocked_admin_is_signed_out_on_the_next_request(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant, "eve@x.example")
    boss = TestClient(client.app)
    uid = signed_in_admin(boss, container, tenant)
    eve = re.search(r'href="/admin/users/(usr_\w+)">Eve<', boss.get("/admin/users").text)
    assert eve
    change(boss, eve.group(1), to="blocked", reason_code="needs_review")
    assert client.get("/admin/users", follow_redirects=False).status_code == 303
    assert uid


# --- CSRF and headers ---------------------------------------------------------------


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    uid = add_user(container, tenant, "bo@x.example")
    answer = client.post(
        f"/admin/users/{uid}/status",
        data={"to": "blocked", "reason_code": "other", "version": "1"},
    )
    assert answer.status_code == 403
    assert "security token" in answer.text
    forged = client.post(
        f"/admin/users/{uid}/status",
        data={"to": "blocked", "reason_code": "other", "version": "1", "csrf_token": "0" * 64},
    )
    assert forged.status_code == 403
    assert "Active" in status_line(client.get(f"/admin/users/{uid}").text)


def test_the_sign_in_form_needs_its_csrf_token(client: TestClient, tenant: Tenant) -> None:
    answer = client.post(
        "/admin/sign-in",
        data={"workspace": tenant.workspace.slug, "email": "a@x.example", "password": "x"},
    )
    assert answer.status_code == 403


def test_dashboard_pages_carry_the_security_headers(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    for path in ("/admin/users", "/admin/sign-in", "/admin/static/admin.css"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
    assert "<script" not in client.get("/admin/users").text


# --- users page ------------------------------------------------------------------


def _people(container: Container, tenant: Tenant, n: int, status: Status) -> None:
    with container.uow() as uow:
        add_users(
            uow,
            workspace_id=tenant.id,
            new=[
                NewUser(f"{status.value}{i}@x.example", f"Person {status.value} {i}", status=status)
                for i in range(n)
            ],
            route=Route.CLI,
            actor=Actor(id=None, name="cli:test"),
            now=container.clock(),
            batch_id=None,
        )
        uow.commit()


def test_the_users_page_counts_filters_searches_and_pages(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    _people(container, tenant, 55, Status.INACTIVE)
    add_user(container, tenant, "zed.blocked@x.example", status=Status.BLOCKED)
    page = client.get("/admin/users").text
    assert (count_of(page, "active"), count_of(page, "inactive"), count_of(page, "blocked")) == (
        2,
        55,
        1,
    )
    blocked = client.get("/admin/users?status=blocked").text
    assert "zed.blocked@x.example" in blocked
    assert "inactive0@x.example" not in blocked
    found = client.get("/admin/users?q=ZED.BLOCKED").text
    assert "zed.blocked@x.example" in found
    assert "ada@x.example" not in found
    first = client.get("/admin/users?status=inactive").text
    assert first.count('name="user_ids"') == 50
    after = pager_link(first, "next")
    assert "status=inactive" in after
    second = client.get(after).text
    assert second.count('name="user_ids"') == 5
    assert 'rel="next"' not in second
    back = client.get(pager_link(second, "prev")).text
    assert back.count('name="user_ids"') == 50
    assert 'rel="prev"' not in back
    assert 'rel="next"' in back


def pager_link(page: str, rel: str) -> str:
    """The href of the page's "next" or "prev" link, unescaped."""
    found = re.search(rf'href="([^"]+)" rel="{rel}"', page)
    assert found, f"no {rel} link"
    return html.unescape(found.group(1))


def test_the_selection_posts_user_ids_to_the_bulk_page(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    uid = add_user(container, tenant, "bo@x.example")
    page = client.get("/admin/users").text
    assert 'action="/admin/bulk-actions/new"' in page
    assert f'name="user_ids" value="{uid}"' in page


# --- profile ---------------------------------------------------------------------


def test_blocking_needs_a_reason_then_the_count_falls_and_history_shows_both(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    uid = add_user(container, tenant, "bo@x.example")
    profile = client.get(f"/admin/users/{uid}").text
    assert "Active users: 3 → 2" in profile
    refused = change(client, uid, to="blocked")
    assert errors_on(refused) == ["Blocking a user needs a reason code."]
    shown = change(client, uid, to="blocked", reason_code="payment_dispute", note="Chargeback")
    assert FLASH.search(shown)
    assert "Bo is now Blocked." in shown
    line = status_line(shown)
    assert "Blocked" in line
    assert "Payment dispute" in line
    assert "Chargeback" in line
    assert "Ada" in line
    assert count_of(client.get("/admin/users").text, "active") == 2
    history = shown[shown.index('id="history"') :]
    assert "Refused: a reason is required" in history
    assert "reason_required" in history
    assert "admin_profile" in history


def test_lifting_a_block_needs_a_note_and_the_admins_own_password(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    uid = add_user(container, tenant, "bo@x.example", status=Status.BLOCKED)
    page = client.get(f"/admin/users/{uid}").text
    assert 'name="password"' in page
    no_password = change(client, uid, to="active", note="Resolved")
    assert errors_on(no_password) == ["Enter your own password to confirm lifting the block."]
    wrong = change(client, uid, to="active", note="Resolved", password="not mine")
    assert errors_on(wrong) == ["That is not your password. Nothing was changed."]
    assert "Refused: the password did not match" in wrong[wrong.index('id="history"') :]
    no_note = change(client, uid, to="active", password=PASSWORD)
    assert errors_on(no_note) == ["Lifting a block needs a note saying why."]
    lifted = change(client, uid, to="active", note="Resolved", password=PASSWORD)
    assert "Bo is now Active." in lifted
    assert "Active" in status_line(lifted)


def test_the_profile_lists_only_what_the_dashboard_may_do(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    uid = signed_in_admin(client, container, tenant)
    own = client.get(f"/admin/users/{uid}").text
    assert "You cannot change your own status." in own
    other = add_user(container, tenant, "bo@x.example", status=Status.INACTIVE)
    page = client.get(f"/admin/users/{other}").text
    assert re.findall(r'name="to" value="(\w+)"', page) == ["active", "blocked"]
    assert "Active users: 2 → 3" in page


def test_a_stale_form_is_refused(client: TestClient, container: Container, tenant: Tenant) -> None:
    signed_in_admin(client, container, tenant)
    uid = add_user(container, tenant, "bo@x.example")
    page = client.get(f"/admin/users/{uid}")
    change(client, uid, to="inactive")
    stale = client.post(
        f"/admin/users/{uid}/status",
        data={"to": "blocked", "reason_code": "other", "version": "1", "csrf_token": csrf_of(page)},
    )
    # Post/Redirect/Get: the refusal shows on the profile's own URL, not the POST's.
    assert [r.status_code for r in stale.history] == [303]
    assert stale.url.path == f"/admin/users/{uid}"
    assert "changed since you read it" in stale.text
    again = client.get(f"/admin/users/{uid}").text  # shown once
    assert "changed since you read it" not in again


def test_another_workspaces_user_is_not_found(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    elsewhere = new_tenant(container)
    answer = client.get(f"/admin/users/{elsewhere.owner.id}")
    assert answer.status_code == 404
    assert "No such user" in answer.text


def test_an_api_refusal_shows_in_the_profile_history(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    uid = add_user(container, tenant, "bo@x.example", status=Status.BLOCKED)
    service = token_for(container, tenant, CredentialKind.SERVICE)
    answer = client.put(f"/api/v1/users/{uid}/status", json={"status": "active"}, headers=service)
    assert answer.status_code == 409
    assert answer.json()["code"] == "user_blocked"
    history = client.get(f"/admin/users/{uid}").text.split('id="history"')[1]
    assert "Refused: this user is Blocked" in history
    assert "automation" in history


# --- audit, settings, tokens -------------------------------------------------------


def test_the_audit_log_filters_and_exports_defused_csv(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    uid = add_user(container, tenant, "bo@x.example")
    change(client, uid, to="blocked", reason_code="other", note="=HYPERLINK('x')")
    change(client, uid, to="blocked")  # same → same: nothing written
    refused = client.get("/admin/audit?outcome=refused").text
    assert "bo@x.example" not in refused
    applied = client.get("/admin/audit?route=admin_profile&user=bo@x.example").text
    assert "bo@x.example" in applied
    bad = client.get("/admin/audit?since=yesterday&user=nobody@x.example")
    assert bad.status_code == 422
    assert set(errors_on(bad.text)) == {
        "Write the date as YYYY-MM-DD.",
        "No user with that email or id in this workspace.",
    }
    exported = client.get("/admin/audit.csv?user=bo@x.example")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["to_status"] for r in rows] == ["active", "blocked"]
    assert rows[1]["note"] == "'=HYPERLINK('x')"


def test_settings_save_and_refuse_a_bad_seat_limit(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    bad = post_form(client, "/admin/settings", "/admin/settings", {"seat_limit": "many"})
    shown = refused_on(client, bad, "/admin/settings")
    assert errors_on(shown) == ["Write the seat limit as a whole number, or leave it empty."]
    assert 'value="many"' in shown  # what was typed, shown again
    saved = post_form(
        client,
        "/admin/settings",
        "/admin/settings",
        {"allow_api_unblock": "on", "seat_limit": "10"},
    )
    assert saved.status_code == 303
    page = client.get("/admin/settings").text
    assert "Settings saved." in page
    assert 'id="allow_api_unblock" checked' in page
    assert 'id="reactivate_on_sign_in" checked' not in page
    assert 'value="10"' in page


def test_a_token_is_shown_once_works_and_can_be_revoked(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    nameless = post_form(client, "/admin/tokens", "/admin/tokens", {"kind": "service"})
    assert errors_on(refused_on(client, nameless, "/admin/tokens")) == [
        "A service or scim token needs a name."
    ]
    created = post_form(
        client, "/admin/tokens", "/admin/tokens", {"kind": "service", "name": "CRM sync"}
    )
    assert created.status_code == 303
    shown = client.get("/admin/tokens").text
    token = re.search(r'id="new-token">([^<]+)<', shown)
    assert token
    assert "new-token" not in client.get("/admin/tokens").text
    auth = {"Authorization": f"Bearer {token.group(1)}"}
    assert client.get("/api/v1/me", headers=auth).status_code == 200
    revoke = re.search(r'action="(/admin/tokens/\w+/revoke)"', shown)
    assert revoke
    post_form(client, "/admin/tokens", revoke.group(1), {})
    assert client.get("/api/v1/me", headers=auth).status_code == 401


@pytest.mark.parametrize("path", ["/admin/audit", "/admin/settings", "/admin/tokens"])
def test_every_control_has_a_label(
    client: TestClient, container: Container, tenant: Tenant, path: str
) -> None:
    signed_in_admin(client, container, tenant)
    html = client.get(path).text
    labelled = set(re.findall(r'<label for="([\w-]+)"', html))
    for control in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if 'type="hidden"' in control or "aria-label=" in control:
            continue
        ident = re.search(r'id="([\w-]+)"', control)
        wrapped = 'type="checkbox"' in control or 'type="radio"' in control
        assert wrapped or (ident and ident.group(1) in labelled), control
    assert html.count("<h1>") == 1
