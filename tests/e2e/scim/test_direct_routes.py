"""The list, a user's GET and PATCH are handed to their views directly (scim/direct.py),
not through FastAPI's request handling; they must answer every request exactly as
FastAPI's own way does: the same status, headers and bytes, refusals included."""

import json
from typing import Any

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Route, Status
from roster.services.status import change_status
from tests.conftest import Tenant
from tests.e2e.conftest import token_for
from tests.e2e.scim.conftest import Scim

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _answer(client: TestClient, method: str, path: str, **sent: Any) -> tuple[Any, ...]:
    r = client.request(method, path, **sent)
    headers = sorted((k, v) for k, v in r.headers.items() if k != "x-request-id")  # each its own
    return r.status_code, headers, r.content


def _patch(value: Any, path: str | None = "active", op: str = "replace") -> bytes:
    operation: dict[str, Any] = {"op": op, "value": value} | ({"path": path} if path else {})
    return json.dumps({"schemas": [PATCH_OP], "Operations": [operation]}).encode()


def test_every_request_gets_the_answer_fastapi_gives(
    clients: tuple[TestClient, TestClient], container: Container, tenant: Tenant
) -> None:
    direct, slow = clients
    scim = token_for(container, tenant, CredentialKind.SCIM)
    idp = Scim(direct, scim)
    ada = idp.create("ada@direct.example", externalId="ext-ada", displayName="Ada")
    blocked = idp.create("bo@direct.example")
    change_status(
        container.uow(),
        workspace_id=tenant.id,
        user_id=blocked,
        to=Status.BLOCKED,
        route=Route.CLI,
        actor=Actor(id=None, name="cli:test"),
        now=container.clock(),
        reason_code=ReasonCode.PAYMENT_DISPUTE,
    )
    callers = [
        scim,
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic abc"},
        token_for(container, tenant, CredentialKind.SERVICE),
    ]
    listed = [
        *("", "?filter=userName%20eq%20%22ada@direct.example%22", "?filter=userName eq nobody"),
        *("?filter=userName%20zz%20%22x%22", "?filter=(", "?attributes=userName", "?count=abc"),
        *('?filter=externalId eq "ext-ada"&excludedAttributes=groups', "?startIndex=2&count=1"),
    ]
    for headers in callers:
        for query in listed:
            path = f"/scim/v2/Users{query}"
            assert _answer(direct, "GET", path, headers=headers) == _answer(
                slow, "GET", path, headers=headers
            ), (path, headers)
        for user in (ada, blocked, "usr_missing", "%20"):
            for query in ("", "?attributes=userName,active", "?excludedAttributes=meta"):
                path = f"/scim/v2/Users/{user}{query}"
                assert _answer(direct, "GET", path, headers=headers) == _answer(
                    slow, "GET", path, headers=headers
                ), (path, headers)
        bodies = [
            _patch(True),  # Ada is Active: nothing to change
            _patch("True", path="urn:ietf:params:scim:schemas:core:2.0:User:active", op="Add"),
            _patch({"active": True}, path=None),
            b"{not json",
            b"[]",
            _patch("maybe"),
            _patch(True, path="emails"),
        ]
        kinds = ({"Content-Type": "application/scim+json"}, {"Content-Type": "text/plain"})
        for user in (ada, blocked, "usr_missing"):
            for body in bodies:
                for kind in kinds:
                    sent = {"headers": headers | kind, "content": body}
                    path = f"/scim/v2/Users/{user}"
                    assert _answer(direct, "PATCH", path, **sent) == _answer(
                        slow, "PATCH", path, **sent
                    ), (path, headers, body, kind)
            stale = {"headers": headers | {"If-Match": 'W/"0-0"'}, "content": _patch(False)}
            path = f"/scim/v2/Users/{user}"
            assert _answer(direct, "PATCH", path, **stale) == _answer(slow, "PATCH", path, **stale)


def test_a_change_reads_the_same_both_ways(
    clients: tuple[TestClient, TestClient], container: Container, tenant: Tenant
) -> None:
    """Deactivated one way and reactivated the other, then again the other way
    round: each answer is the user as the other way's GET reads them."""
    direct, slow = clients
    scim = token_for(container, tenant, CredentialKind.SCIM)
    user = Scim(direct, scim).create("cy@direct.example")
    path = f"/scim/v2/Users/{user}"
    headers = scim | {"Content-Type": "application/scim+json"}
    for first, second in ((direct, slow), (slow, direct)):
        for value in (False, True):
            changed = first.request("PATCH", path, content=_patch(value), headers=headers)
            assert changed.status_code == 200
            assert changed.json()["active"] is value
            read = second.get(path, headers=scim)
            assert (changed.content, changed.headers["etag"]) == (
                read.content,
                read.headers["etag"],
            )
