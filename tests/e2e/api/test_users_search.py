"""Finding users by text (`q`) in the API, on SQLite and PostgreSQL: text anywhere in
the email or the name, any case, however short, special characters as plain text,
only in the caller's workspace, and users added, renamed or removed found as they
are now (the search index keeps in step)."""

from datetime import UTC, datetime
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import delete, insert, update

from roster.adapters.tables import users
from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import Route
from roster.services.users import NewUser, add_users
from tests.conftest import Tenant, new_tenant
from tests.e2e.conftest import token_for

PEOPLE = [
    ("ann.lee@acme.example", "Ann Lee"),
    ("bob@acme.example", "Robert 'Bob' MacLeod"),
    ("o'brien+100%_x@acme.example", "Siobhán O'Brien"),
    ("percent@acme.example", "Per Cent 50%"),
    ("under_score@acme.example", "Una Score"),
    ("zed@zulu.example", "Zed Quote"),
]


def _people(container: Container, tenant: Tenant) -> dict[str, str]:
    """PEOPLE in `tenant`; email → id."""
    uow = container.uow()
    with uow:
        made = add_users(
            uow,
            workspace_id=tenant.id,
            new=[NewUser(email, name) for email, name in PEOPLE],
            route=Route.CLI,
            actor=Actor(id=None, name="cli:test"),
            now=container.clock(),
            batch_id=None,
        )
        uow.commit()
    return {u.email: u.id for u in made}


def _found(client: TestClient, headers: dict[str, str], text: str) -> set[str]:
    """The emails `?q=text` lists, over every page."""
    emails: set[str] = set()
    cursor = ""
    while True:
        r = client.get(f"/api/v1/users?q={quote(text)}&limit=2{cursor}", headers=headers)
        assert r.status_code == 200, r.text
        emails |= {u["email"] for u in r.json()["items"]}
        if r.json()["next_cursor"] is None:
            return emails
        cursor = f"&cursor={r.json()['next_cursor']}"


def test_text_anywhere_in_the_email_or_the_name_in_any_case(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    _people(container, tenant)
    admin = token_for(container, tenant, CredentialKind.PERSONAL)
    assert _found(client, admin, "ann.lee@acme.example") == {"ann.lee@acme.example"}
    assert _found(client, admin, "ANN.LEE@ACME.EXAMPLE") == {"ann.lee@acme.example"}
    assert _found(client, admin, "n.le") == {"ann.lee@acme.example"}
    assert _found(client, admin, "  macleod ") == {"bob@acme.example"}  # in the name only
    assert _found(client, admin, "T 'BOB' M") == {"bob@acme.example"}
    assert _found(client, admin, "zulu") == {"zed@zulu.example"}
    assert _found(client, admin, "nobody") == set()
    everyone = {email for email, _ in PEOPLE}
    assert _found(client, admin, "example") == everyone | {tenant.owner.email}


def test_one_or_two_characters_find_the_same_as_any_text(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    _people(container, tenant)
    admin = token_for(container, tenant, CredentialKind.PERSONAL)
    assert _found(client, admin, "Zu") == {"zed@zulu.example"}
    assert _found(client, admin, "ob") == {"bob@acme.example", "o'brien+100%_x@acme.example"}
    assert _found(client, admin, "q") == {"zed@zulu.example"}  # "Quote", in the name
    assert _found(client, admin, "'") == {"bob@acme.example", "o'brien+100%_x@acme.example"}


def test_percent_underscore_and_quotes_are_plain_text(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    _people(container, tenant)
    admin = token_for(container, tenant, CredentialKind.PERSONAL)
    obrien = "o'brien+100%_x@acme.example"
    assert _found(client, admin, obrien) == {obrien}
    assert _found(client, admin, "100%_") == {obrien}
    assert _found(client, admin, "%") == {obrien, "percent@acme.example"}
    assert _found(client, admin, "_") == {obrien, "under_score@acme.example"}
    assert _found(client, admin, "50%") == {"percent@acme.example"}
    assert _found(client, admin, "%%%") == set()
    assert _found(client, admin, "un_er") == set()  # `_` is not "any character"
    assert _found(client, admin, "u_") == set()
    assert _found(client, admin, "'bob'") == {"bob@acme.example"}
    assert _found(client, admin, '"bob"') == set()  # a double quote is text too
    assert _found(client, admin, 'bob" OR "ann') == set()  # not a query language
    assert _found(client, admin, "bob*") == set()
    assert _found(client, admin, "siobhán") == {obrien}


def test_another_workspaces_users_never_appear(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    _people(container, tenant)
    other = new_tenant(container)
    _people(container, other)
    admin = token_for(container, tenant, CredentialKind.PERSONAL)
    theirs = token_for(container, other, CredentialKind.PERSONAL)
    everyone = {email for email, _ in PEOPLE}
    assert _found(client, admin, "example") == everyone | {tenant.owner.email}
    assert _found(client, theirs, "example") == everyone | {other.owner.email}
    assert _found(client, admin, "owner@") == {tenant.owner.email}
    assert _found(client, admin, other.workspace.slug) == set()
    assert _found(client, admin, other.owner.email) == set()


def test_users_added_renamed_or_removed_are_found_as_they_are_now(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    ids = _people(container, tenant)
    admin = token_for(container, tenant, CredentialKind.PERSONAL)
    assert _found(client, admin, "Lee") == {"ann.lee@acme.example"}

    r = client.patch(f"/api/v1/users/{ids['ann.lee@acme.example']}", headers=admin,
                     json={"name": "Ann Quixote"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert _found(client, admin, "Ann Lee") == set()
    assert _found(client, admin, "quixote") == {"ann.lee@acme.example"}
    assert _found(client, admin, "ann.lee") == {"ann.lee@acme.example"}  # the email stays

    r = client.post("/api/v1/users", headers=admin,
                    json={"email": "Late.Comer@acme.example", "name": "Lately Come"})  # fmt: skip
    assert r.status_code == 201, r.text
    assert _found(client, admin, "late.comer") == {"late.comer@acme.example"}
    assert _found(client, admin, "LATELY") == {"late.comer@acme.example"}

    # An address changed and a row removed in the table itself (as an operator would).
    with container.engine.begin() as conn:
        conn.execute(
            update(users)
            .where(users.c.workspace_id == tenant.id, users.c.id == ids["bob@acme.example"])
            .values(email="robert@acme.example")
        )
        conn.execute(
            insert(users).values(
                workspace_id=tenant.id, id="usr_search_removed", email="gone@acme.example",
                name="Gone Soon", role="member", status="active",
                created_at=datetime.now(UTC), version=1,
            )
        )  # fmt: skip
    assert _found(client, admin, "gone soon") == {"gone@acme.example"}
    with container.engine.begin() as conn:
        gone = users.c.workspace_id == tenant.id, users.c.id == "usr_search_removed"
        conn.execute(delete(users).where(*gone))
    assert _found(client, admin, "bob@") == set()
    assert _found(client, admin, "robert@") == {"robert@acme.example"}
    assert _found(client, admin, "macleod") == {"robert@acme.example"}
    assert _found(client, admin, "gone") == set()
