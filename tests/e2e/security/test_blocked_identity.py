# ruff: noqa: RUF001  (look-alike characters are the point here)
"""A Blocked account's identity is frozen, and its address stays taken.

An identity provider used to rename a Blocked user (SCIM PATCH userName answered
200), which freed the address for a new, Active account of the same person. Now,
while a user is Blocked, no route but the dashboard profile and the CLI changes
what identifies or empowers them, each refusal is audited, and their address, in
any spelling, is theirs: no other account takes it by SCIM, the API, an
invitation or an import. On SQLite and PostgreSQL.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from roster.adapters import tables as t
from roster.bootstrap import Container
from roster.config import get_settings
from roster.domain import errors
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.entrypoints.cli import common
from roster.entrypoints.cli.main import app
from roster.services.access import create_token
from roster.services.invitations import create_invitation
from roster.services.status import change_status
from tests.conftest import CLI_ACTOR, Tenant
from tests.e2e.conftest import PASSWORD, add_user, token_for
from tests.e2e.scim.conftest import Scim

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
CLI = Actor(id=None, name="cli:test")

# Spellings of blk@example.com that name the same mailbox or pass for it: case,
# full-width (NFKC) letters, the Kelvin sign, a trailing dot on the domain, and
# invisible characters (zero-width space, joiner, BOM, soft hyphen).
LOOK_ALIKES = [
    "BLK@EXAMPLE.COM",
    "ｂｌｋ@ｅｘａｍｐｌｅ.com",
    "bl\u212a@example.com",
    "blk@example.com.",
    "  Blk@Example.Com.  ",
    "b\u200blk@example.com",
    "blk@exam\u200dple.com",
    "\ufeffblk@example.com",
    "blk\u00ad@example.com",
]


@pytest.fixture
def idp(client: TestClient, container: Container, tenant: Tenant) -> Scim:
    return Scim(client, token_for(container, tenant, CredentialKind.SCIM))


@pytest.fixture
def personal(container: Container, tenant: Tenant) -> dict[str, str]:
    return token_for(container, tenant, CredentialKind.PERSONAL)


def _block(container: Container, tenant: Tenant, user_id: str) -> None:
    change_status(
        container.uow(),
        workspace_id=tenant.id,
        user_id=user_id,
        to=Status.BLOCKED,
        route=Route.CLI,
        actor=CLI,
        now=container.clock(),
        reason_code=ReasonCode.ACCESS_VIOLATION,
    )


def _users(container: Container, tenant: Tenant) -> int:
    with container.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(t.users).where(t.users.c.workspace_id == tenant.id)
            ).scalar_one()
        )


def _row(container: Container, tenant: Tenant, user_id: str) -> Any:
    with container.engine.connect() as conn:
        return conn.execute(
            select(t.users).where(t.users.c.workspace_id == tenant.id, t.users.c.id == user_id)
        ).one()


def _refusals(container: Container, tenant: Tenant, user_id: str, route: Route) -> int:
    """How many `user_blocked` refusals through `route` the user's history shows."""
    e = t.audit_events.c
    with container.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(
                    e.workspace_id == tenant.id,
                    e.user_id == user_id,
                    e.outcome == "user_blocked",
                    e.route == route.value,
                    e.from_status == "blocked",
                    e.to_status == "blocked",
                )
            ).scalar_one()
        )


def _refused_as_mutability(r: Any) -> None:
    assert r.status_code == 400, r.text
    assert r.json()["scimType"] == "mutability"
    assert "Blocked" in r.json()["detail"]


def _refused_as_taken(r: Any) -> None:
    assert r.status_code == 409, r.text
    assert r.json()["scimType"] == "uniqueness"


def _refused_as_blocked(r: Any) -> None:
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "user_blocked"


def test_an_identity_provider_cannot_rename_a_blocked_user_and_provision_them_again(
    idp: Scim, container: Container, tenant: Tenant
) -> None:
    emails = [{"value": "blk@example.com", "type": "work", "primary": True}]
    user_id = idp.create("blk@example.com", externalId="okta-1", emails=emails)
    _block(container, tenant, user_id)

    idp.create("taken@example.com")
    renames: list[dict[str, Any]] = [
        {"op": "replace", "path": "userName", "value": "elsewhere@example.com"},
        {"op": "replace", "path": "userName", "value": "taken@example.com"},
        {"op": "replace", "path": "externalId", "value": "okta-2"},
        {"op": "replace", "path": "emails", "value": [{"value": "other@example.com"}]},
        {"op": "add", "path": "emails", "value": [{"value": "extra@example.com"}]},
        {"op": "replace", "value": {"userName": "elsewhere@example.com"}},
    ]
    for operation in renames:
        _refused_as_mutability(idp.patch(user_id, operation))
    put = {"schemas": [CORE], "userName": "elsewhere@example.com", "externalId": "okta-1"}
    _refused_as_mutability(idp.request("PUT", f"/scim/v2/Users/{user_id}", put))
    assert _refusals(container, tenant, user_id, Route.SCIM) == len(renames) + 1

    kept = idp.get(f"/scim/v2/Users/{user_id}").json()
    assert (kept["userName"], kept["externalId"]) == ("blk@example.com", "okta-1")
    assert [e["value"] for e in kept["emails"]] == ["blk@example.com"]
    assert _row(container, tenant, user_id).email == "blk@example.com"

    count = _users(container, tenant)
    for spelling in ["blk@example.com", *LOOK_ALIKES]:
        _refused_as_taken(
            idp.request("POST", "/scim/v2/Users", {"schemas": [CORE], "userName": spelling})
        )
    new_name_old_address = {"schemas": [CORE], "userName": "fresh@example.com", "emails": emails}
    _refused_as_taken(idp.request("POST", "/scim/v2/Users", new_name_old_address))
    assert _users(container, tenant) == count
    assert _row(container, tenant, user_id).status == "blocked"


def test_what_does_not_identify_a_blocked_user_still_syncs(
    idp: Scim, container: Container, tenant: Tenant
) -> None:
    user_id = idp.create("calm@example.com", externalId="okta-9")
    _block(container, tenant, user_id)
    r = idp.patch(user_id, {"op": "replace", "path": "displayName", "value": "Calm Person"})
    assert r.status_code == 200, r.text
    r = idp.patch(user_id, {"op": "replace", "path": "userName", "value": "CALM@example.com"})
    assert r.status_code == 200, r.text  # the same address in another case: no change
    put = {"schemas": [CORE], "userName": "calm@example.com", "externalId": "okta-9"}
    assert (
        idp.request("PUT", f"/scim/v2/Users/{user_id}", put | {"active": False}).status_code == 200
    )
    assert _refusals(container, tenant, user_id, Route.SCIM) == 0
    assert _row(container, tenant, user_id).status == "blocked"


def test_a_user_name_that_is_not_an_email_stays_a_blocked_users_in_any_spelling(
    idp: Scim, container: Container, tenant: Tenant
) -> None:
    jdoe = idp.create("jdoe", emails=[{"value": "jdoe@corp.example", "primary": True}])
    blk5 = idp.create("blk5@example.com")
    _block(container, tenant, jdoe)
    _block(container, tenant, blk5)
    count = _users(container, tenant)
    for spelling in [
        "JDOE",
        "ｊｄｏｅ",
        "jd\u200boe",
        "\u2060jdoe",
        "blk5@EXAMPLE.com.",
        "BLK5@example.com",
    ]:
        _refused_as_taken(
            idp.request("POST", "/scim/v2/Users", {"schemas": [CORE], "userName": spelling})
        )
    assert _users(container, tenant) == count
    assert _refusals(container, tenant, jdoe, Route.SCIM) == 4
    assert _refusals(container, tenant, blk5, Route.SCIM) == 2


def test_an_active_user_cannot_be_renamed_onto_a_blocked_users_address(
    idp: Scim, container: Container, tenant: Tenant
) -> None:
    blocked = idp.create("kept@example.com")
    _block(container, tenant, blocked)
    other = idp.create("other@example.com")
    for spelling in ["KEPT@example.com", "kept@example.com.", "ｋｅｐｔ@example.com"]:
        r = idp.patch(other, {"op": "replace", "path": "userName", "value": spelling})
        _refused_as_taken(r)
    assert _row(container, tenant, other).email == "other@example.com"


def test_the_api_and_invitations_refuse_a_blocked_address_in_every_spelling(
    client: TestClient, container: Container, tenant: Tenant, personal: dict[str, str]
) -> None:
    blocked = add_user(container, tenant, "blk@example.com", status=Status.BLOCKED)
    count = _users(container, tenant)
    for spelling in ["blk@example.com", *LOOK_ALIKES]:
        body = {"email": spelling, "name": "Second Self"}
        _refused_as_blocked(client.post("/api/v1/users", json=body, headers=personal))
        r = client.post("/api/v1/invitations", json={"email": spelling}, headers=personal)
        _refused_as_blocked(r)
    assert _users(container, tenant) == count
    assert _refusals(container, tenant, blocked, Route.ADMIN_API) == len(LOOK_ALIKES) + 1
    e = t.audit_events.c
    with container.engine.connect() as conn:
        invited = conn.execute(
            select(func.count()).where(
                e.user_id == blocked, e.route == "invitation", e.outcome == "user_blocked"
            )
        ).scalar_one()
        pending = conn.execute(
            select(func.count()).where(t.invitations.c.workspace_id == tenant.id)
        ).scalar_one()
    assert (invited, pending) == (len(LOOK_ALIKES) + 1, 0)


def test_a_blocked_users_role_cannot_change_through_the_api(
    client: TestClient, container: Container, tenant: Tenant, personal: dict[str, str]
) -> None:
    user_id = add_user(container, tenant, "role@example.com", status=Status.BLOCKED)
    r = client.patch(f"/api/v1/users/{user_id}", json={"role": "admin"}, headers=personal)
    _refused_as_blocked(r)
    r = client.patch(
        f"/api/v1/users/{user_id}", json={"role": "owner", "name": "Promoted"}, headers=personal
    )
    _refused_as_blocked(r)
    row = _row(container, tenant, user_id)
    assert (row.role, row.name) == ("member", "Role")
    assert _refusals(container, tenant, user_id, Route.ADMIN_API) == 2
    r = client.patch(f"/api/v1/users/{user_id}", json={"name": "Renamed"}, headers=personal)
    assert r.status_code == 200, r.text  # a display name neither identifies nor empowers


def test_no_password_or_credential_is_issued_for_a_blocked_user(
    client: TestClient, container: Container, tenant: Tenant, personal: dict[str, str]
) -> None:
    admin = add_user(container, tenant, "adm@example.com", role=Role.ADMIN)
    own = token_for(container, tenant, CredentialKind.PERSONAL, admin)
    invited = add_user(container, tenant, "back@example.com", status=Status.INACTIVE)
    invitation = create_invitation(
        container.uow(),
        workspace_id=tenant.id,
        email="back@example.com",
        actor=CLI,
        now=container.clock(),
        public_url=container.settings.public_url,
    )
    for user_id in (admin, invited):
        _block(container, tenant, user_id)
    before = _row(container, tenant, invited).password_hash

    r = client.post(
        f"/api/v1/invitations/{invitation.token}/accept",
        json={"password": "a brand new password"},
    )
    _refused_as_blocked(r)
    assert _row(container, tenant, invited).password_hash == before
    sign_in = {"workspace": tenant.workspace.slug, "email": "adm@example.com", "password": PASSWORD}
    r = client.post("/api/v1/auth/sessions", json=sign_in)
    assert r.status_code in (401, 403)
    assert "token" not in r.json()
    assert client.post("/api/v1/tokens", json={"kind": "personal"}, headers=own).status_code == 401
    with pytest.raises(errors.DomainError):
        create_token(
            container.uow(),
            workspace_id=tenant.id,
            kind=CredentialKind.PERSONAL,
            name=None,
            user_id=admin,
            now=container.clock(),
            route=Route.CLI,
            actor=CLI_ACTOR,
        )
    with container.engine.connect() as conn:
        live = conn.execute(
            select(func.count()).where(
                t.credentials.c.workspace_id == tenant.id,
                t.credentials.c.user_id == admin,
                t.credentials.c.revoked_at.is_(None),
            )
        ).scalar_one()
    assert live == 0


@pytest.fixture
def roster(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The `roster` command line on the test's database."""
    monkeypatch.setenv("ROSTER_DATABASE_URL", database_url)
    get_settings.cache_clear()
    common.container.cache_clear()
    yield CliRunner()
    common.container().engine.dispose()  # its pool's connections, closed now
    get_settings.cache_clear()
    common.container.cache_clear()


def test_an_import_row_that_would_change_a_blocked_user_is_refused(
    roster: CliRunner, container: Container, tenant: Tenant, tmp_path: Path
) -> None:
    blocked = add_user(container, tenant, "blk@example.com", status=Status.BLOCKED)
    count = _users(container, tenant)
    slug = tenant.workspace.slug

    def imported(rows: str) -> list[tuple[int, str]]:
        path = tmp_path / "people.csv"
        path.write_text(f"email,name,role,status\n{rows}", encoding="utf-8")
        result = roster.invoke(app, ["users", "import", str(path), "-w", slug, "--json"])
        assert result.exit_code == 1, result.stderr  # a row refused by the rules
        return [(r["line"], r["code"]) for r in json.loads(result.stdout)["refused"]]

    refused = imported("blk@example.com,Blk,admin,blocked\nnew@example.com,New,member,active\n")
    assert refused == [(2, "user_blocked")]
    assert _refusals(container, tenant, blocked, Route.BULK) == 1
    assert imported("BLK@Example.com.,Blk,member,active\n") == [(2, "user_blocked")]
    assert imported("ｂｌｋ@example.com,Blk,owner,inactive\n") == [(2, "user_blocked")]
    row = _row(container, tenant, blocked)
    assert (row.role, row.status) == ("member", "blocked")
    assert _users(container, tenant) == count + 1

    hidden = tmp_path / "hidden.csv"
    hidden.write_text("email,name,role,status\nb\u200blk@example.com,Blk,member,active\n")
    result = roster.invoke(app, ["users", "import", str(hidden), "-w", tenant.workspace.slug])
    assert result.exit_code == 2
    assert _users(container, tenant) == count + 1
