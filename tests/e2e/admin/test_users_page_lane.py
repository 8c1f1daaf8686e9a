"""A GET of the users page is answered by its lane, ahead of the routing
(entrypoints/web/fast_lanes.py); it must answer every request exactly as FastAPI's
own way does: the same status, headers and bytes, for every kind of
caller (admin, member, signed out, forged or ended session) and query string,
redirects and refusals included."""

import re

from fastapi.testclient import TestClient
from httpx2 import Response

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services.access import sign_in
from roster.services.status import change_status
from tests.conftest import Tenant
from tests.e2e.conftest import PASSWORD, add_user, recorded_lanes

EXPIRES = re.compile(r"expires=[^;]+")
QUERIES = [
    *("", "?status=blocked", "?status=active", "?status=inactive", "?status=bogus"),
    *("?status=", "?q=ada", "?q=%3Cb%3E%26%22'", "?q=nobody", "?q=" + "x" * 300),
    *("?status=blocked&status=active", "?q=a&q=bo", "?after=usr_0", "?before=usr_z"),
    *("?after=", "?before=&after=", "?q=%E2%80%9C%7B%7B+x+%7D%7D", "?unknown=1"),
    *("?status=blocked&q=cy", "?q=%00", "?after=%00"),
]


def _seen(answer: Response) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and bytes; a cookie's deletion date is the clock's second."""
    headers = [
        (k, EXPIRES.sub("expires=…", v))
        for k, v in answer.headers.multi_items()
        if k != "x-request-id"  # each request its own
    ]
    return answer.status_code, headers, answer.content


def _session(container: Container, tenant: Tenant, email: str) -> str:
    return sign_in(
        container.engine,
        workspace=tenant.workspace.slug,
        email=email,
        password=PASSWORD,
        now=container.clock(),
        kind=CredentialKind.SESSION,
    ).token


def test_the_users_page_answers_as_fastapi_would(
    clients: tuple[TestClient, TestClient], container: Container, tenant: Tenant
) -> None:
    fast, slow = clients
    add_user(container, tenant, "ada@page.example", role=Role.ADMIN)
    add_user(container, tenant, "bo@page.example", status=Status.INACTIVE)
    add_user(container, tenant, "cy+tag@page.example", status=Status.BLOCKED)
    leaving = add_user(container, tenant, "di@page.example", role=Role.ADMIN)
    add_user(container, tenant, "mo@page.example")
    cookies = {
        "admin": _session(container, tenant, "ada@page.example"),
        "member": _session(container, tenant, "mo@page.example"),
        "blocked since": _session(container, tenant, "di@page.example"),
        "forged": "rst.forged",
        "api session": sign_in(
            container.engine,
            workspace=tenant.workspace.slug,
            email="ada@page.example",
            password=PASSWORD,
            now=container.clock(),
        ).token,
    }
    change_status(
        container.uow(),
        workspace_id=tenant.id,
        user_id=leaving,
        to=Status.BLOCKED,
        route=Route.CLI,
        actor=Actor(None, "cli:test"),
        reason_code=ReasonCode.ACCESS_VIOLATION,
        now=container.clock(),
    )
    for name in ("admin", "member"):  # the first use stamps last-seen: before comparing
        fast.get("/admin/users", headers={"cookie": f"roster_session={cookies[name]}"})
    compared = 0
    for caller, token in [*cookies.items(), ("none", None)]:
        for flash in (None, "Ada%20is%20now%20Blocked."):
            jar = [f"roster_session={token}"] if token else []
            jar += [f"roster_flash={flash}"] if flash else []
            headers = {"cookie": "; ".join(jar)} if jar else {}
            for query in QUERIES:
                url = f"/admin/users{query}"
                one = fast.get(url, headers=headers, follow_redirects=False)
                two = slow.get(url, headers=headers, follow_redirects=False)
                assert _seen(one) == _seen(two), (caller, flash, query)
                compared += one.status_code == 200
    assert compared >= len(QUERIES)  # the admin's pages were among them


def test_the_lane_answers_the_admins_page_and_passes_on_the_rest(
    container: Container, tenant: Tenant
) -> None:
    """The comparison above only means something if the lane really answers: an
    admin's page never gets past it; a member's (403), a signed-out caller's
    (redirect to sign-in), a form POST and another path all do."""
    add_user(container, tenant, "ada@lane.example", role=Role.ADMIN)
    add_user(container, tenant, "mo@lane.example")
    admin = {"cookie": f"roster_session={_session(container, tenant, 'ada@lane.example')}"}
    member = {"cookie": f"roster_session={_session(container, tenant, 'mo@lane.example')}"}
    app, reached = recorded_lanes(container)
    with TestClient(app) as client:
        page = client.get("/admin/users?status=active", headers=admin)
        assert page.status_code == 200
        assert "ada@lane.example" in page.text
        assert page.headers["content-security-policy"].endswith("frame-ancestors 'none'")
        assert reached == []
        assert client.get("/admin/users", headers=member).status_code == 403
        signed_out = client.get("/admin/users", follow_redirects=False)
        assert signed_out.status_code == 303
        client.post("/admin/users", headers=admin)
        client.get("/admin/users/", headers=admin, follow_redirects=False)
        assert reached == [
            "GET /admin/users",
            "GET /admin/users",
            "POST /admin/users",
            "GET /admin/users/",
        ]
