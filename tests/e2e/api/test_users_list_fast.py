"""GET /users answers an everyday query string in an ASGI middleware, without the
routing and FastAPI's parameter work (fast_lanes.py, api/user_listing.list_lane); it must
answer every query string, for every kind of caller, exactly as FastAPI's own way
does: the same status, headers and bytes, refusals included."""

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import Role, Status
from roster.entrypoints.web.deps import get_container
from roster.services.access import sign_in
from roster.services.queries import Keyset, encode_cursor
from tests.conftest import Tenant
from tests.e2e.conftest import PASSWORD, add_user, recorded_lanes, token_for

EVERYDAY = [
    *("", "status=blocked", "status=blocked&status=active", "status=inactive&role=admin"),
    *("role=member", "role=owner&role=admin", "sort=-id", "sort=email", "sort=-email"),
    *("sort=name", "sort=-last_seen_at", "sort=created_at", "limit=1", "limit=200"),
    *("limit=007", "limit=5&limit=7", "sort=id&sort=-email", "status=blocked&limit=2&sort=-name"),
]
ODD = [
    *("limit=0", "limit=201", "limit=abc", "limit=", "limit=%EF%BC%95", "limit=1000"),
    *("cursor=", "cursor=abc", "cursor=" + "A" * 1001, "status=", "status=Blocked", "role="),
    *("status=blocked&foo=1", "q=a", "q=", "last_seen_after=2000-01-01", "sort=bogus"),
    *("sort=" + "x" * 30, "status=blocked&status=nope", "limit=-1", "limit=+5", "limit=5.0"),
]


def _cursors(client: TestClient, headers: dict[str, str]) -> list[str]:
    found = []
    for sort in ("id", "email", "-last_seen_at", "name"):
        page = client.get(f"/api/v1/users?limit=2&sort={sort}", headers=headers).json()
        cursor = page["next_cursor"]
        found += [f"sort={sort}&cursor={cursor}", f"cursor={cursor}&sort={sort}&limit=1"]
        found += [f"sort={sort}&cursor={cursor}%20", f"sort={sort}&cursor={cursor}!!"]
    id_cursor = encode_cursor("id", Keyset("usr_0", "usr_0"))
    return [*found, f"cursor={id_cursor}", f"cursor={id_cursor}&sort=email", "cursor=e30"]


def test_every_query_string_gets_the_answer_fastapi_gives(
    clients: tuple[TestClient, TestClient], container: Container, tenant: Tenant
) -> None:
    fast, slow = clients
    add_user(container, tenant, "ada@fast.example", role=Role.ADMIN)
    add_user(container, tenant, "bo@fast.example", status=Status.INACTIVE)
    add_user(container, tenant, "cy@fast.example", status=Status.BLOCKED)
    add_user(container, tenant, "di@fast.example")
    session = sign_in(
        container.engine,
        workspace=tenant.workspace.slug,
        email="ada@fast.example",
        password=PASSWORD,
        now=container.clock(),
        kind=CredentialKind.SESSION,
    )
    callers = {
        "personal": token_for(container, tenant, CredentialKind.PERSONAL),
        "service": token_for(container, tenant, CredentialKind.SERVICE),
        "scim": token_for(container, tenant, CredentialKind.SCIM),
        "session as bearer": {"Authorization": f"Bearer {session.token}"},
        "forged": {"Authorization": "Bearer rst.forged"},
        "basic": {"Authorization": "Basic YTpi"},
        "none": {},
    }
    for headers in callers.values():  # the first use stamps last-seen: before comparing
        fast.get("/api/v1/users?limit=1", headers=headers)
    queries = [*EVERYDAY, *ODD, *_cursors(fast, callers["personal"])]
    for caller, headers in callers.items():
        for query in queries:
            sent = headers | {"X-Request-ID": "same-for-both"}
            a = fast.get(f"/api/v1/users?{query}", headers=sent)
            b = slow.get(f"/api/v1/users?{query}", headers=sent)
            assert (a.status_code, a.headers, a.content) == (b.status_code, b.headers, b.content), (
                caller,
                query,
            )
    assert fast.get("/api/v1/users", headers=callers["personal"]).status_code == 200


def test_the_lane_answers_everyday_lists_and_passes_on_the_rest(
    container: Container, tenant: Tenant
) -> None:
    """The comparison above only means something if the lane really answers: here the
    lanes wrap an app that records what reaches it. An everyday list by an admin
    never does; a refusal, another scheme, a query string the lane does not read,
    another path or method all do, to be answered the whole app's way."""
    app, reached = recorded_lanes(container)
    personal = token_for(container, tenant, CredentialKind.PERSONAL)
    with TestClient(app) as client:
        answered = client.get("/api/v1/users?status=active&limit=2", headers=personal)
        assert answered.status_code == 200
        assert [u["email"] for u in answered.json()["items"]] == [tenant.owner.email]
        assert reached == []
        for method, path, headers in [
            ("GET", "/api/v1/users", {"Authorization": "Bearer rst.forged"}),
            ("GET", "/api/v1/users", {}),
            ("GET", "/api/v1/users", {"Authorization": "bearer " + personal["Authorization"][7:]}),
            ("GET", "/api/v1/users?q=a", personal),
            ("GET", "/api/v1/users/", personal),
            ("HEAD", "/api/v1/users", personal),
        ]:
            client.request(method, path, headers=headers)
        assert reached == [
            *(["GET /api/v1/users"] * 4),
            "GET /api/v1/users/",
            "HEAD /api/v1/users",
        ]
        app.dependency_overrides[get_container] = get_container
        client.get("/api/v1/users", headers=personal)
        assert len(reached) == 7
