"""Password reset through HTTP: a link by email for Active and Inactive users, none for
a Blocked one (a refused attempt in the audit log), never a status change."""

import re

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import Role, Status
from tests.conftest import Tenant
from tests.e2e.access.conftest import Clock, bearer, history, sign_in, status_of
from tests.e2e.admin.conftest import csrf_of
from tests.e2e.admin.conftest import sign_in as admin_sign_in
from tests.e2e.conftest import add_user, token_for
from tests.e2e.mail.conftest import PUBLIC_URL

NEW = "a much better passphrase"
LINK = re.compile(rf"{PUBLIC_URL}/admin/password-reset/(\S+)")


def _ask(client: TestClient, tenant: Tenant, email: str) -> int:
    body = {"workspace": tenant.workspace.slug, "email": email}
    return client.post("/api/v1/auth/password-resets", json=body).status_code


def _links(client: TestClient, container: Container, tenant: Tenant, to: str) -> list[str]:
    admin = token_for(container, tenant, CredentialKind.PERSONAL)
    emails = client.get("/api/v1/emails", headers=admin).json()["items"]
    return [LINK.findall(e["text_body"])[0] for e in emails if e["to"] == to]


def test_a_user_resets_their_password_by_email_and_their_other_sessions_end(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    add_user(mail_container, mail_tenant, "forgot@people.example")
    old_session = bearer(sign_in(mail_client, mail_tenant, "forgot@people.example"))
    assert _ask(mail_client, mail_tenant, "Forgot@People.example") == 202
    [token] = _links(mail_client, mail_container, mail_tenant, "forgot@people.example")
    done = mail_client.post(f"/api/v1/auth/password-resets/{token}", json={"password": NEW})
    assert done.status_code == 204
    assert mail_client.get("/api/v1/me", headers=old_session).status_code == 401
    assert sign_in(mail_client, mail_tenant, "forgot@people.example", NEW).status_code == 201
    again = mail_client.post(f"/api/v1/auth/password-resets/{token}", json={"password": NEW})
    assert (again.status_code, again.json()["code"]) == (404, "not_found")  # single use


def test_an_unknown_address_gets_the_same_answer_and_no_email(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    assert _ask(mail_client, mail_tenant, "nobody@people.example") == 202
    assert _links(mail_client, mail_container, mail_tenant, "nobody@people.example") == []


def test_a_blocked_user_gets_no_email_and_the_attempt_is_audited_as_refused(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    user = add_user(mail_container, mail_tenant, "held@people.example", status=Status.BLOCKED)
    assert _ask(mail_client, mail_tenant, "held@people.example") == 202
    assert _links(mail_client, mail_container, mail_tenant, "held@people.example") == []
    last = history(mail_container, mail_tenant, user)[-1]
    assert (last.route, last.outcome) == ("password_reset", "user_blocked")
    assert status_of(mail_container, mail_tenant, user) == "blocked"


def test_an_inactive_user_may_reset_their_password_and_stays_inactive(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    user = add_user(mail_container, mail_tenant, "away@people.example", status=Status.INACTIVE)
    assert _ask(mail_client, mail_tenant, "away@people.example") == 202
    [token] = _links(mail_client, mail_container, mail_tenant, "away@people.example")
    done = mail_client.post(f"/api/v1/auth/password-resets/{token}", json={"password": NEW})
    assert done.status_code == 204
    assert status_of(mail_container, mail_tenant, user) == "inactive"
    assert sign_in(mail_client, mail_tenant, "away@people.example", NEW).status_code == 403


def test_a_link_expires_after_30_minutes_and_a_short_password_is_refused(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant, clock: Clock
) -> None:
    add_user(mail_container, mail_tenant, "slow@people.example")
    _ask(mail_client, mail_tenant, "slow@people.example")
    [token] = _links(mail_client, mail_container, mail_tenant, "slow@people.example")
    short = mail_client.post(f"/api/v1/auth/password-resets/{token}", json={"password": "short"})
    assert (short.status_code, short.json()["code"]) == (422, "validation_error")
    clock.advance(minutes=31)
    late = mail_client.post(f"/api/v1/auth/password-resets/{token}", json={"password": NEW})
    assert late.status_code == 404


def test_requests_are_throttled_per_address_like_sign_in(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    add_user(mail_container, mail_tenant, "spam@people.example")
    answers = [_ask(mail_client, mail_tenant, "spam@people.example") for _ in range(6)]
    assert answers == [202] * 5 + [429]
    assert len(_links(mail_client, mail_container, mail_tenant, "spam@people.example")) == 5


def test_forgot_password_on_the_dashboard_leads_to_signing_in_with_the_new_one(
    mail_client: TestClient, mail_container: Container, mail_tenant: Tenant
) -> None:
    add_user(mail_container, mail_tenant, "ada@people.example", role=Role.ADMIN)
    sign_in_page = mail_client.get("/admin/sign-in")
    assert 'href="/admin/forgot-password"' in sign_in_page.text
    form = mail_client.get("/admin/forgot-password")
    asked = mail_client.post(
        "/admin/forgot-password",
        data={"workspace": mail_tenant.workspace.slug, "email": "ada@people.example",
              "csrf_token": csrf_of(form)},
    )  # fmt: skip
    assert "is on its way" in asked.text
    [token] = _links(mail_client, mail_container, mail_tenant, "ada@people.example")
    page = mail_client.get(f"/admin/password-reset/{token}")
    choose = {"password": NEW, "password_confirm": "not the same", "csrf_token": csrf_of(page)}
    differ = mail_client.post(f"/admin/password-reset/{token}", data=choose)
    assert differ.status_code == 422
    assert "The passwords differ." in differ.text
    done = mail_client.post(
        f"/admin/password-reset/{token}", data=choose | {"password_confirm": NEW},
        follow_redirects=False,
    )  # fmt: skip
    assert done.headers["location"] == "/admin/sign-in"
    signed = admin_sign_in(mail_client, mail_tenant, "ada@people.example", NEW)
    assert signed.status_code == 303
