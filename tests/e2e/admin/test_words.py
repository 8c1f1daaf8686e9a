"""The dashboard speaks in words people use: routes and refusal codes in plain words
(the code in a tooltip and a muted line), the audit's Who a person or a credential's
name; and the users page sorts by name unless a column heading says otherwise."""

import html
import re

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import Status
from tests.conftest import Tenant
from tests.e2e.admin.conftest import post_form, signed_in_admin
from tests.e2e.conftest import add_user, token_for


def rows_of(page: str) -> list[str]:
    body = page.split("<tbody>")[1].split("</tbody>", maxsplit=1)[0]
    return [re.sub(r"<[^>]+>|\s+", " ", r) for r in body.split("<tr")[1:]]


def test_the_audit_log_names_routes_refusals_and_who_in_words(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)  # Ada, ada@x.example
    bo = add_user(container, tenant, "bo@x.example", status=Status.BLOCKED)
    profile = f"/admin/users/{bo}"
    post_form(client, profile, f"{profile}/status", {"to": "blocked", "version": "9"})
    service = token_for(container, tenant, CredentialKind.SERVICE)
    client.put(f"/api/v1/users/{bo}/status", json={"status": "active"}, headers=service)
    page = client.get(f"/admin/audit?user={bo}&outcome=refused").text
    [by_api, *_] = rows_of(page)
    assert "By an automation" in by_api
    assert "Refused: this user is Blocked" in by_api
    assert "service token service test" in by_api  # the credential's name
    assert '<span title="user_blocked">Refused: this user is Blocked</span>' in page
    assert '<code class="code">user_blocked</code>' in page  # the code, on a muted line
    assert '<span title="automation">By an automation</span>' in page
    assert "From the command line" in client.get("/admin/audit?route=cli").text
    # Filters offer the words too.
    assert ">By SCIM (the identity provider)</option>" in page
    assert ">Refused: this user is Blocked</option>" in page


def test_a_persons_change_names_them_with_their_email(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    ada = signed_in_admin(client, container, tenant)
    bo = add_user(container, tenant, "bo@x.example")
    profile = f"/admin/users/{bo}"
    page = client.get(profile).text
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version
    post_form(client, profile, f"{profile}/status", {"to": "inactive", "version": version[1]})
    [row, *_] = rows_of(client.get(f"/admin/audit?user={bo}&route=admin_profile").text)
    assert "By an admin in the dashboard" in row
    assert "Ada" in row
    assert "ada@x.example" in row
    audit = client.get(f"/admin/audit?user={bo}&route=admin_profile").text
    assert f'href="/admin/users/{ada}"' in audit


def names(page: str) -> list[str]:
    return re.findall(r'<td><a href="/admin/users/[^"]+">([^<]+)</a></td>', page)


def test_the_users_page_sorts_by_name_and_by_any_column_heading(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    for email in ("cy@x.example", "al@x.example", "bea@x.example"):
        add_user(container, tenant, email)
    first = client.get("/admin/users").text
    assert names(first) == sorted(names(first))  # by name, by default
    assert 'aria-sort="ascending"' in first
    heading = re.search(r'<a class="sort" href="([^"]+)">Email', first)
    assert heading
    by_email = client.get(html.unescape(heading[1])).text
    emails = re.findall(r"<td>([^<]+@x\.example)</td>", by_email)
    assert emails == sorted(emails)
    again = re.search(r'<a class="sort" href="([^"]+)">Email', by_email)
    assert again
    assert "sort=-email" in again[1]  # a second click sorts descending
    down = client.get(html.unescape(again[1]) + "&status=active").text
    assert re.findall(r"<td>([^<]+@x\.example)</td>", down) == sorted(emails, reverse=True)
    assert 'name="sort" value="-email"' in down  # the search form keeps the sort
    assert "sort=-email" in re.search(r'href="([^"]+)"[^>]*>Active', down)[1]  # type: ignore[index]
    assert client.get("/admin/users?sort=password_hash").status_code == 200  # ignored: by name
    stale = client.get("/admin/users?sort=email&after=not-a-cursor")
    assert stale.status_code == 200  # a mangled cursor: page one
