"""Dashboard helpers: sign in through the real form, read the CSRF token off a page."""

import re

from fastapi.testclient import TestClient
from httpx2 import Response

from roster.bootstrap import Container
from roster.domain.vocabulary import Role
from tests.conftest import Tenant
from tests.e2e.conftest import PASSWORD, add_user

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_of(page: Response) -> str:
    found = CSRF.search(page.text)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, tenant: Tenant, email: str, password: str = PASSWORD) -> Response:
    form = client.get("/admin/sign-in")
    return client.post(
        "/admin/sign-in",
        data={
            "workspace": tenant.workspace.slug,
            "email": email,
            "password": password,
            "csrf_token": csrf_of(form),
        },
        follow_redirects=False,
    )


def signed_in_admin(
    client: TestClient, container: Container, tenant: Tenant, email: str = "ada@x.example"
) -> str:
    """Add an admin with PASSWORD, sign them in on `client`; their user id."""
    uid = add_user(container, tenant, email, role=Role.ADMIN)
    answer = sign_in(client, tenant, email)
    assert answer.status_code == 303, answer.text
    return uid


def post_form(client: TestClient, page_url: str, action: str, data: dict[str, str]) -> Response:
    """Submit a form as a browser would: take the CSRF token from the page first."""
    token = csrf_of(client.get(page_url))
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False)


def refused_on(client: TestClient, answer: Response, path: str) -> str:
    """A refused form's answer is a redirect back to its GET page `path` (a refresh
    sends nothing again); the text of that page, which shows the messages once."""
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].split("#")[0] == path
    return client.get(path).text
