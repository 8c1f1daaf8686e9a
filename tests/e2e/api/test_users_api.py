"""Users, audit events and workspace settings in the REST API: what an admin or an
integration sees, on SQLite and PostgreSQL."""

import csv
import io
from typing import Any

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services.status import change_status
from roster.services.users import NewUser, add_users
from tests.conftest import Tenant, new_tenant
from tests.e2e.conftest import PASSWORD, add_user, token_for

PROBLEM = "application/problem+json"
ADMIN_API = "admin_api"


def _admin(container: Container, tenant: Tenant) -> dict[str, str]:
    return token_for(container, tenant, CredentialKind.PERSONAL)


def _seed(container: Container, tenant: Tenant, n: int, prefix: str = "u") -> list[str]:
    """`n` users in one transaction; every 10th Blocked, every 5th (otherwise) Inactive."""

    def status(i: int) -> Status:
        return Status.BLOCKED if i % 10 == 0 else Status.INACTIVE if i % 5 == 0 else Status.ACTIVE

    uow = container.uow()
    with uow:
        users = add_users(
            uow,
            workspace_id=tenant.id,
            new=[
                NewUser(
                    f"{prefix}{i:05d}@seed.example",
                    f"Seed {prefix.upper()}{i:05d}",
                    status=status(i),
                    reason_code=ReasonCode.OTHER if status(i) == Status.BLOCKED else None,
                )
                for i in range(n)
            ],
            route=Route.CLI,
            actor=Actor(id=None, name="cli:test"),
            now=container.clock(),
            batch_id=None,
        )
        uow.commit()
    return [u.id for u in users]


def _walk(client: TestClient, headers: dict[str, str], query: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        r = client.get(f"/api/v1/users?{query}{cursor}", headers=headers)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        if r.json()["next_cursor"] is None:
            return items
        cursor = f"&cursor={r.json()['next_cursor']}"


def test_paging_through_two_thousand_users_gives_each_once_in_order(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    ids = _seed(container, tenant, 2000)
    admin = _admin(container, tenant)
    seen = _walk(client, admin, "limit=200")
    assert [u["id"] for u in seen] == sorted([*ids, tenant.owner.id])
    blocked = _walk(client, admin, "status=blocked&limit=37&sort=-email")
    assert len(blocked) == 200
    assert [u["email"] for u in blocked] == sorted((u["email"] for u in blocked), reverse=True)
    assert {u["status"] for u in blocked} == {"blocked"}


def test_paging_while_users_change_neither_repeats_nor_skips_anyone(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    ids = _seed(container, tenant, 60)
    admin = _admin(container, tenant)
    seen: list[str] = []
    cursor = ""
    for page in range(100):
        r = client.get(f"/api/v1/users?limit=7&sort=name{cursor}", headers=admin)
        seen += [u["id"] for u in r.json()["items"]]
        # Between pages: a new user arrives and an already listed one changes status.
        add_user(container, tenant, f"late{page}@x.example")
        client.put(f"/api/v1/users/{seen[-1]}/status", headers=admin, json={"status": "inactive"})
        if r.json()["next_cursor"] is None:
            break
        cursor = f"&cursor={r.json()['next_cursor']}"
    assert len(seen) == len(set(seen))
    assert set(ids) <= set(seen)


def test_filters_combine(client: TestClient, container: Container, tenant: Tenant) -> None:
    _seed(container, tenant, 50)
    add_user(container, tenant, "Zed.Admin@x.example", role=Role.ADMIN)
    admin = _admin(container, tenant)
    got = _walk(client, admin, "status=blocked&status=inactive&q=seed%20u0001")
    assert sorted(u["email"] for u in got) == ["u00010@seed.example", "u00015@seed.example"]
    assert [u["email"] for u in _walk(client, admin, "role=admin&q=ZED")] == ["zed.admin@x.example"]
    assert _walk(client, admin, "q=%25") == []  # LIKE wildcards are text, not patterns


def test_last_seen_filters_and_sort(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    _seed(container, tenant, 3)
    admin = _admin(container, tenant)
    client.get("/api/v1/me", headers=admin)  # the owner is seen now; the others never
    after = _walk(client, admin, "last_seen_after=2000-01-01T00:00:00Z")
    assert [u["id"] for u in after] == [tenant.owner.id]
    assert _walk(client, admin, "last_seen_before=2000-01-01T00:00:00") == []
    newest_first = _walk(client, admin, "sort=-last_seen_at&limit=1")
    assert newest_first[0]["id"] == tenant.owner.id
    assert len(newest_first) == 4
    oldest_first = _walk(client, admin, "sort=last_seen_at&limit=2")
    assert oldest_first[-1]["id"] == tenant.owner.id


def test_a_cursor_of_another_sort_or_a_made_up_one_is_a_validation_problem(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    _seed(container, tenant, 5)
    admin = _admin(container, tenant)
    cursor = client.get("/api/v1/users?limit=2", headers=admin).json()["next_cursor"]
    for query in (f"sort=email&cursor={cursor}", "cursor=bm9wZQ", "sort=password"):
        r = client.get(f"/api/v1/users?{query}", headers=admin)
        assert (r.status_code, r.json()["code"]) == (422, "validation_error"), query
        assert r.headers["content-type"].startswith(PROBLEM)


def test_every_user_carries_its_status_line_and_what_the_caller_may_do(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    uid = add_user(container, tenant, "bo@x.example", status=Status.BLOCKED)
    admin = _admin(container, tenant)
    service = token_for(container, tenant, CredentialKind.SERVICE)
    as_admin = client.get(f"/api/v1/users/{uid}", headers=admin).json()
    assert as_admin["status"] == "blocked"
    assert as_admin["status_reason"] == "other"
    assert as_admin["status_changed_by"] == "cli:test"
    assert as_admin["allowed_transitions"] == []  # admin_api may not unblock by default
    client.patch("/api/v1/workspace", headers=admin, json={"allow_api_unblock": True})
    unblockable = client.get(f"/api/v1/users/{uid}", headers=admin).json()
    assert unblockable["allowed_transitions"] == ["active", "inactive"]
    listed = _walk(client, service, "status=blocked")
    assert [u["allowed_transitions"] for u in listed] == [[]]  # automation never unblocks


def test_create_user_as_admin(client: TestClient, container: Container, tenant: Tenant) -> None:
    admin = _admin(container, tenant)
    r = client.post(
        "/api/v1/users",
        headers=admin,
        json={"email": "New@X.example", "name": "New Person", "role": "admin"},
    )
    assert r.status_code == 201
    assert r.headers["Location"] == f"/api/v1/users/{r.json()['id']}"
    assert (r.json()["email"], r.json()["status"], r.headers["ETag"]) == (
        "new@x.example",
        "active",
        '"v1"',
    )
    again = client.post(
        "/api/v1/users", headers=admin, json={"email": "new@x.example", "name": "Twin"}
    )
    assert (again.status_code, again.json()["code"]) == (422, "validation_error")
    blocked = client.post(
        "/api/v1/users",
        headers=admin,
        json={"email": "b@x.example", "name": "B", "status": "blocked"},
    )
    assert (blocked.status_code, blocked.json()["code"]) == (422, "reason_required")
    events = client.get(f"/api/v1/audit-events?user={r.json()['id']}", headers=admin).json()
    assert [(e["route"], e["to_status"], e["outcome"]) for e in events["items"]] == [
        (ADMIN_API, "active", "applied")
    ]


def test_seat_limit_refuses_creating_an_active_user(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    admin = _admin(container, tenant)
    settings = client.patch("/api/v1/workspace", headers=admin, json={"seat_limit": 1})
    assert settings.json()["seat_limit"] == 1
    r = client.post("/api/v1/users", headers=admin, json={"email": "c@x.example", "name": "C"})
    assert (r.status_code, r.json()["code"]) == (409, "seat_limit_reached")
    inactive = client.post(
        "/api/v1/users",
        headers=admin,
        json={"email": "c@x.example", "name": "C", "status": "inactive"},
    )
    assert inactive.status_code == 201
    lifted = client.patch("/api/v1/workspace", headers=admin, json={"seat_limit": None})
    assert lifted.json()["seat_limit"] is None
    assert lifted.json()["users"] == {"active": 1, "inactive": 1, "blocked": 0}


def test_patch_changes_name_and_role_and_honours_if_match(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    uid = add_user(container, tenant, "di@x.example")
    admin = _admin(container, tenant)
    etag = client.get(f"/api/v1/users/{uid}", headers=admin).headers["ETag"]
    r = client.patch(
        f"/api/v1/users/{uid}",
        headers=admin | {"If-Match": etag},
        json={"name": "  Di Admin ", "role": "admin"},
    )
    assert r.status_code == 200
    assert (r.json()["name"], r.json()["role"]) == ("Di Admin", "admin")
    assert r.headers["ETag"] != etag
    stale = client.patch(
        f"/api/v1/users/{uid}", headers=admin | {"If-Match": etag}, json={"name": "Lost"}
    )
    assert (stale.status_code, stale.json()["code"]) == (412, "version_conflict")
    also_stale = client.put(
        f"/api/v1/users/{uid}/status",
        headers=admin | {"If-Match": etag},
        json={"status": "inactive"},
    )
    assert (also_stale.status_code, also_stale.json()["code"]) == (412, "version_conflict")
    assert client.get(f"/api/v1/users/{uid}", headers=admin).json()["name"] == "Di Admin"


def test_the_last_owner_stays_an_owner(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    admin = _admin(container, tenant)
    r = client.patch(f"/api/v1/users/{tenant.owner.id}", headers=admin, json={"role": "member"})
    assert (r.status_code, r.json()["code"]) == (409, "last_owner")


def test_another_workspaces_ids_answer_404_everywhere(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    other = new_tenant(container)
    theirs = add_user(container, other, "them@x.example")
    admin = _admin(container, tenant)
    answers = [
        client.get(f"/api/v1/users/{theirs}", headers=admin),
        client.patch(f"/api/v1/users/{theirs}", headers=admin, json={"name": "X"}),
        client.put(f"/api/v1/users/{theirs}/status", headers=admin, json={"status": "inactive"}),
    ]
    assert [(a.status_code, a.json()["code"]) for a in answers] == [(404, "not_found")] * 3
    assert theirs not in {u["id"] for u in _walk(client, admin, "limit=200")}
    events = client.get(f"/api/v1/audit-events?user={theirs}", headers=admin).json()
    assert events["items"] == []
    workspace = client.get("/api/v1/workspace", headers=admin).json()
    assert workspace["id"] == tenant.id


def test_members_and_scim_tokens_may_not_manage_users(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    member_id = add_user(container, tenant, "mo@x.example")
    signed_in = client.post(
        "/api/v1/auth/sessions",
        json={"workspace": tenant.workspace.slug, "email": "mo@x.example", "password": PASSWORD},
    )
    member = {"Authorization": f"Bearer {signed_in.json()['token']}"}
    scim = token_for(container, tenant, CredentialKind.SCIM)
    uid = add_user(container, tenant, "target@x.example")
    for caller in (member, scim):
        answers = [
            client.get("/api/v1/users", headers=caller),
            client.get(f"/api/v1/users/{uid}", headers=caller),
            client.post(
                "/api/v1/users", headers=caller, json={"email": "a@x.example", "name": "A"}
            ),
            client.patch(f"/api/v1/users/{uid}", headers=caller, json={"name": "X"}),
            client.put(f"/api/v1/users/{uid}/status", headers=caller, json={"status": "inactive"}),
            client.get("/api/v1/audit-events", headers=caller),
            client.get("/api/v1/workspace", headers=caller),
            client.patch("/api/v1/workspace", headers=caller, json={"seat_limit": 1}),
        ]
        assert {(a.status_code, a.json()["code"]) for a in answers} == {(403, "forbidden")}
    assert client.get("/api/v1/me", headers=member).json()["id"] == member_id


def test_a_service_token_reads_users_and_changes_statuses_through_automation(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    uid = add_user(container, tenant, "sv@x.example")
    service = token_for(container, tenant, CredentialKind.SERVICE)
    assert client.get(f"/api/v1/users/{uid}", headers=service).status_code == 200
    r = client.put(f"/api/v1/users/{uid}/status", headers=service, json={"status": "inactive"})
    assert r.status_code == 200
    refused = [
        client.post("/api/v1/users", headers=service, json={"email": "s@x.example", "name": "S"}),
        client.patch(f"/api/v1/users/{uid}", headers=service, json={"role": "admin"}),
        client.get("/api/v1/audit-events", headers=service),
        client.patch("/api/v1/workspace", headers=service, json={"allow_api_unblock": True}),
    ]
    assert {a.status_code for a in refused} == {403}
    admin = _admin(container, tenant)
    events = client.get(f"/api/v1/audit-events?user={uid}&route=automation", headers=admin)
    assert [e["to_status"] for e in events.json()["items"]] == ["inactive"]


def test_audit_events_filter_by_outcome_actor_and_time_and_page_newest_first(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    uid = add_user(container, tenant, "au@x.example", status=Status.BLOCKED)
    admin = _admin(container, tenant)
    service = token_for(container, tenant, CredentialKind.SERVICE)
    for _ in range(3):
        client.put(f"/api/v1/users/{uid}/status", headers=service, json={"status": "active"})
    refused = client.get("/api/v1/audit-events?outcome=refused&limit=2", headers=admin).json()
    assert [e["outcome"] for e in refused["items"]] == ["user_blocked"] * 2
    rest = client.get(
        f"/api/v1/audit-events?outcome=refused&limit=2&cursor={refused['next_cursor']}",
        headers=admin,
    ).json()
    assert [e["outcome"] for e in rest["items"]] == ["user_blocked"]
    assert rest["next_cursor"] is None
    seqs = [e["seq"] for e in refused["items"] + rest["items"]]
    assert seqs == sorted(seqs, reverse=True)
    by_code = client.get("/api/v1/audit-events?outcome=user_blocked", headers=admin).json()
    actor = by_code["items"][0]["actor_id"]
    assert actor is not None
    by_actor = client.get(f"/api/v1/audit-events?actor={actor}", headers=admin).json()
    assert len(by_actor["items"]) == 3
    future = client.get("/api/v1/audit-events?since=2999-01-01T00:00:00Z", headers=admin)
    assert future.json()["items"] == []
    past = client.get("/api/v1/audit-events?until=2000-01-01T00:00:00", headers=admin)
    assert past.json()["items"] == []


def test_audit_csv_defuses_formulas(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    uid = add_user(container, tenant, "cs@x.example")
    change_status(
        container.uow(),
        workspace_id=tenant.id,
        user_id=uid,
        to=Status.INACTIVE,
        route=Route.CLI,
        actor=Actor(id=None, name="@evil"),
        note='=HYPERLINK("http://evil.example","x")',
        now=container.clock(),
    )
    admin = _admin(container, tenant)
    for r in (
        client.get("/api/v1/audit-events?format=csv&kind=status", headers=admin),
        client.get("/api/v1/audit-events?kind=status", headers=admin | {"Accept": "text/csv"}),
    ):
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert rows[0]["note"] == '\'=HYPERLINK("http://evil.example","x")'
        assert rows[0]["actor_name"] == "'@evil"
        assert len(rows) == 3  # the owner's and the user's creation, and the change


def test_workspace_settings_round_trip(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    admin = _admin(container, tenant)
    before = client.get("/api/v1/workspace", headers=admin).json()
    assert (before["allow_api_unblock"], before["reactivate_on_sign_in"]) == (False, False)
    r = client.patch(
        "/api/v1/workspace",
        headers=admin,
        json={"reactivate_on_sign_in": True, "seat_limit": 10},
    )
    assert (r.json()["reactivate_on_sign_in"], r.json()["seat_limit"]) == (True, 10)
    assert r.json()["allow_api_unblock"] is False  # not sent: unchanged
    bad = client.patch("/api/v1/workspace", headers=admin, json={"seat_limit": -1})
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_error")


def test_every_failure_is_a_problem(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    admin = _admin(container, tenant)
    uid = tenant.owner.id
    answers = {
        "unknown path": client.get("/api/v1/nowhere", headers=admin),
        "method": client.delete("/api/v1/users", headers=admin),
        "not json": client.patch(
            f"/api/v1/users/{uid}", headers=admin | {"Content-Type": "text/plain"}, content=b"x"
        ),
        "malformed": client.post(
            "/api/v1/users",
            headers=admin | {"Content-Type": "application/json"},
            content=b'{"email": ',
        ),
        "NUL": client.post(
            "/api/v1/users", headers=admin, json={"email": "a@x.example", "name": "a\x00"}
        ),
        "unknown field": client.patch(f"/api/v1/users/{uid}", headers=admin, json={"x": 1}),
    }
    got = {k: (r.status_code, r.json()["code"]) for k, r in answers.items()}
    assert got == {
        "unknown path": (404, "not_found"),
        "method": (405, "method_not_allowed"),
        "not json": (422, "validation_error"),
        "malformed": (422, "validation_error"),
        "NUL": (422, "validation_error"),
        "unknown field": (422, "validation_error"),
    }
    assert all(r.headers["content-type"].startswith(PROBLEM) for r in answers.values())
    assert "JSON" in answers["not json"].json()["detail"]


def test_the_reference_page_lists_every_operation_of_the_openapi_document(
    client: TestClient,
) -> None:
    spec = client.get("/openapi.json").json()
    page = client.get("/api/v1/reference")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<script" not in page.text
    for path, item in spec["paths"].items():
        for method in item:
            assert f"{method.upper()} {path}" in page.text
    assert client.get("/api/v1", follow_redirects=False).headers["location"] == (
        "/api/v1/reference"
    )


def test_the_openapi_document_lists_problem_responses(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    patch = spec["paths"]["/api/v1/users/{user_id}"]["patch"]["responses"]
    assert set(patch) == {"200", "401", "403", "404", "409", "412", "413", "422"}
    assert list(patch["412"]["content"]) == [PROBLEM]
    listing = spec["paths"]["/api/v1/audit-events"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv"} <= set(listing)
