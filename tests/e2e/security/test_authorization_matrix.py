"""Authorization matrix: every operation of the API and SCIM, times every kind of caller.

The operations come from the app itself: `app.openapi()` for /api/v1 and the
app's routes under /scim/v2 (SCIM is not in the OpenAPI document). Each one must
be declared in ACCESS below (who may call it) and each of its path parameters in
PARAMS (how to make a real one): a new endpoint or a new kind of id fails this test
until its author says who may call it.

Every operation is then sent by every credential of CALLERS, with a minimal valid
body and real ids of this workspace, and the answer is compared with the expected
one: 401 for a credential that is not live (none, forged, revoked, expired, its
user or its creator no longer Active, a dashboard cookie sent as a bearer), 403 for
a live one that may not do this, 404 for another workspace's caller aiming at this
workspace's ids (and, on lists, nothing of this workspace in the answer), and a
2xx (or the operation's declared answer) for an allowed caller: what matters is
that an allowed caller is never refused and a refused one never served.
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine, select, update

from roster.adapters.tables import credentials, users
from roster.bootstrap import Container
from roster.config import Settings
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.entrypoints.web.admin.session import SESSION_COOKIE, csrf_token_for
from roster.entrypoints.web.app import create_app
from roster.services.access import create_token, revoke_credential, sign_in
from roster.services.status import change_status
from tests import tally
from tests.conftest import CLI_ACTOR, Tenant, new_tenant
from tests.e2e.conftest import PASSWORD, PASSWORD_HASH, add_user
from tests.e2e.security.conftest import FORM_DATA, api_routes

SCIM_PREFIX = "/scim/v2"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


class Audience(Enum):
    """Who may call an operation."""

    PUBLIC = "anyone, even without a credential"
    SIGNED_IN = "any live credential"
    SERVICE_OR_ADMIN = "owners and admins (sessions, personal tokens) and service tokens"
    ADMIN = "owners and admins (sessions, personal tokens)"
    SCIM = "scim tokens only"


API = "/api/v1"
ACCESS: dict[str, Audience] = {
    f"POST {API}/auth/sessions": Audience.PUBLIC,
    f"DELETE {API}/auth/sessions/current": Audience.SIGNED_IN,
    # Service and scim tokens get the admin who created them (whom they can read anyway).
    f"GET {API}/me": Audience.SIGNED_IN,
    f"GET {API}/tokens": Audience.ADMIN,
    f"POST {API}/tokens": Audience.ADMIN,
    f"DELETE {API}/tokens/{{token_id}}": Audience.ADMIN,
    f"GET {API}/users": Audience.SERVICE_OR_ADMIN,
    f"POST {API}/users": Audience.ADMIN,
    f"GET {API}/users/{{user_id}}": Audience.SERVICE_OR_ADMIN,
    f"PATCH {API}/users/{{user_id}}": Audience.ADMIN,
    f"PUT {API}/users/{{user_id}}/status": Audience.SERVICE_OR_ADMIN,
    f"POST {API}/users/{{user_id}}/upgrade": Audience.SERVICE_OR_ADMIN,
    f"POST {API}/introspect": Audience.SERVICE_OR_ADMIN,
    f"POST {API}/invitations": Audience.SERVICE_OR_ADMIN,
    f"GET {API}/invitations": Audience.SERVICE_OR_ADMIN,
    f"DELETE {API}/invitations/{{invitation_id}}": Audience.SERVICE_OR_ADMIN,
    f"POST {API}/invitations/{{token}}/accept": Audience.PUBLIC,
    f"GET {API}/audit-events": Audience.ADMIN,
    f"GET {API}/workspace": Audience.ADMIN,
    f"PATCH {API}/workspace": Audience.ADMIN,
    f"POST {API}/bulk-actions": Audience.ADMIN,
    f"GET {API}/bulk-actions": Audience.ADMIN,
    f"GET {API}/bulk-actions/{{job_id}}": Audience.ADMIN,
    f"GET {API}/bulk-actions/{{job_id}}/results": Audience.ADMIN,
    f"GET {API}/billing/active-users": Audience.SERVICE_OR_ADMIN,
    f"GET {API}/billing/usage": Audience.SERVICE_OR_ADMIN,
    f"GET {API}/automations": Audience.ADMIN,
    f"POST {API}/automations": Audience.ADMIN,
    f"GET {API}/automations/templates/dormant": Audience.ADMIN,
    f"GET {API}/automations/{{rule_id}}": Audience.ADMIN,
    f"PUT {API}/automations/{{rule_id}}": Audience.ADMIN,
    f"DELETE {API}/automations/{{rule_id}}": Audience.ADMIN,
    f"POST {API}/automations/{{rule_id}}/enable": Audience.ADMIN,
    f"POST {API}/automations/{{rule_id}}/disable": Audience.ADMIN,
    f"POST {API}/automations/{{rule_id}}/runs": Audience.ADMIN,
    f"GET {API}/automations/{{rule_id}}/runs": Audience.ADMIN,
    f"GET {API}/automations/{{rule_id}}/runs/{{run_id}}": Audience.ADMIN,
    f"GET {API}/automations/{{rule_id}}/runs/{{run_id}}/outcomes": Audience.ADMIN,
    f"POST {API}/events": Audience.SERVICE_OR_ADMIN,
    f"GET {API}/emails": Audience.ADMIN,
    f"POST {API}/invitations/{{invitation_id}}/resend": Audience.SERVICE_OR_ADMIN,
    f"POST {API}/auth/password-resets": Audience.PUBLIC,
    f"POST {API}/auth/password-resets/{{token}}": Audience.PUBLIC,
    f"GET {API}/blocked-users": Audience.ADMIN,
    f"PUT {API}/users/{{user_id}}/review": Audience.ADMIN,
    f"GET {API}/webhook-event-types": Audience.ADMIN,
    f"GET {API}/webhook-endpoints": Audience.ADMIN,
    f"POST {API}/webhook-endpoints": Audience.ADMIN,
    f"GET {API}/webhook-endpoints/{{endpoint_id}}": Audience.ADMIN,
    f"PATCH {API}/webhook-endpoints/{{endpoint_id}}": Audience.ADMIN,
    f"DELETE {API}/webhook-endpoints/{{endpoint_id}}": Audience.ADMIN,
    f"POST {API}/webhook-endpoints/{{endpoint_id}}/rotate-secret": Audience.ADMIN,
    f"POST {API}/webhook-endpoints/{{endpoint_id}}/test": Audience.ADMIN,
    f"GET {API}/webhook-endpoints/{{endpoint_id}}/deliveries": Audience.ADMIN,
    f"GET {API}/webhook-deliveries/{{delivery_id}}": Audience.ADMIN,
    f"POST {API}/webhook-deliveries/{{delivery_id}}/retry": Audience.ADMIN,
}
for _method, _path in itertools.product(
    ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"), ("/{rest:path}",)
):
    ACCESS[f"{_method} {SCIM_PREFIX}{_path}"] = Audience.SCIM
for _op in (
    "GET /ServiceProviderConfig",
    "GET /Schemas",
    "GET /Schemas/{schema_id}",
    "GET /ResourceTypes",
    "GET /ResourceTypes/{type_id}",
    "GET /Users",
    "POST /Users/.search",
    "GET /Users/{user_id}",
    "POST /Users",
    "PUT /Users/{user_id}",
    "PATCH /Users/{user_id}",
    "DELETE /Users/{user_id}",
    "GET /Groups",
    "POST /Groups/.search",
    "GET /Groups/{group_id}",
    "POST /Groups",
    "PUT /Groups/{group_id}",
    "PATCH /Groups/{group_id}",
    "DELETE /Groups/{group_id}",
    "POST /.search",
    "GET ",  # the root search by query string (RFC 7644 §3.4.2), with and without "/"
    "GET /",
):
    _m, _p = _op.split(" ")
    ACCESS[f"{_m} {SCIM_PREFIX}{_p}"] = Audience.SCIM

OK = frozenset(range(200, 300))
ALLOWED_ANSWER: dict[str, frozenset[int]] = {
    # What an allowed caller may get where it is not only a 2xx, by design.
    **{
        f"{m} {SCIM_PREFIX}/{{rest:path}}": frozenset({404})
        for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
    },
    # The token the matrix has is an invitation's, not a reset link's.
    f"POST {API}/auth/password-resets/{{token}}": frozenset({404}),
    # The matrix's users are not Blocked, and only a Blocked user is reviewed.
    f"PUT {API}/users/{{user_id}}/review": frozenset({409}),
}

CROSS_WORKSPACE_404 = {
    # Operations without a path id that still name one of this workspace's ids (in
    # the body): another workspace's caller gets 404 like for a path id.
    f"POST {API}/events",
}


# Callers. Each is made once per matrix, except for operations that end the
# caller's own credential (signing out), which get a fresh one.
REFUSED_401 = (
    "anonymous",
    "forged",
    "revoked",
    "expired",
    "inactive_user",
    "blocked_user",
    "blocked_user_unrevoked",
    "service_of_inactive_admin",
    "dashboard_cookie",
)
LIVE = ("member", "admin", "owner", "personal", "service", "scim")
CALLERS = (*REFUSED_401, *LIVE, "other_workspace")
HUMAN_ADMINS = ("admin", "owner", "personal")


def expected(op: str, caller: str, has_owned_id: bool) -> int | None:
    """The status `caller` must get from `op`; None means "allowed" (2xx or the
    operation's declared answer)."""
    audience = ACCESS[op]
    if audience is Audience.PUBLIC:
        return None
    if caller == "dashboard_cookie" and audience is Audience.SCIM:
        return 403  # a live credential, but only a scim token may use SCIM
    if caller in REFUSED_401:
        return 401
    if caller == "other_workspace":
        return 404 if has_owned_id or op in CROSS_WORKSPACE_404 else None
    allowed: tuple[str, ...] = {
        Audience.SIGNED_IN: LIVE,
        Audience.SERVICE_OR_ADMIN: (*HUMAN_ADMINS, "service"),
        Audience.ADMIN: HUMAN_ADMINS,
        Audience.SCIM: ("scim",),
    }[audience]
    return None if caller in allowed else 403


@dataclass
class World:
    """One workspace with every kind of caller, and another workspace."""

    container: Container
    client: TestClient
    app: FastAPI
    tenant: Tenant
    other: Tenant
    member_id: str
    admin_id: str
    owner_bearer: dict[str, str]
    scim_bearer: dict[str, str]
    member_token: str = ""  # a live session of the member, for introspection
    shared: dict[str, dict[str, str]] = field(default_factory=dict)  # ids per operation
    mine: set[str] = field(default_factory=set)  # identifiers only this workspace may see
    emails: dict[str, str] = field(default_factory=dict)
    counter: "itertools.count[int]" = field(default_factory=itertools.count)

    @property
    def owner_email(self) -> str:
        return self.tenant.owner.email

    def now(self) -> Any:
        return self.container.clock()

    def unique(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter)}"

    def user(self, status: Status = Status.ACTIVE, role: Role = Role.MEMBER) -> str:
        email = f"{self.unique('u')}@{self.tenant.workspace.slug}.example"
        uid = add_user(self.container, self.tenant, email, role=role, status=status)
        self.mine.update((uid, email))
        self.emails[uid] = email
        return uid

    def token(
        self,
        kind: CredentialKind,
        user_id: str,
        *,
        tenant: Tenant | None = None,
        expires_in: timedelta | None = None,
    ) -> tuple[str, str]:
        t = tenant or self.tenant
        return create_token(
            self.container.uow(),
            workspace_id=t.id,
            kind=kind,
            name=self.unique("matrix "),
            user_id=user_id,
            now=self.now(),
            expires_at=self.now() + expires_in if expires_in is not None else None,
            route=Route.CLI,
            actor=Actor(None, "cli:test"),
        )

    def session(
        self,
        email: str,
        kind: CredentialKind = CredentialKind.API_SESSION,
        tenant: Tenant | None = None,
    ) -> str:
        t = tenant or self.tenant
        return sign_in(
            self.container.uow(),
            workspace=t.workspace.slug,
            email=email,
            password=PASSWORD,
            now=self.now(),
            kind=kind,
        ).token

    def leave_active(self, user_id: str, to: Status) -> None:
        change_status(
            self.container.uow(),
            workspace_id=self.tenant.id,
            user_id=user_id,
            to=to,
            route=Route.CLI,
            actor=CLI_ACTOR,
            reason_code=ReasonCode.OTHER if to == Status.BLOCKED else None,
            note="matrix",
            now=self.now(),
        )

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """A setup call as the owner; its answer must be a success."""
        r = self.client.request(method, path, json=body, headers=self.owner_bearer)
        assert r.status_code < 300, (method, path, r.status_code, r.text)
        return r.json() if r.content else None

    def scim(self, method: str, path: str, body: Any) -> Any:
        r = self.client.request(method, path, json=body, headers=self.scim_bearer)
        assert r.status_code < 300, (method, path, r.status_code, r.text)
        return r.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _revoked(w: World) -> str:
    cid, token = w.token(CredentialKind.PERSONAL, w.admin_id)
    revoke_credential(
        w.container.uow(),
        workspace_id=w.tenant.id,
        credential_id=cid,
        now=w.now(),
        route=Route.CLI,
        actor=Actor(None, "cli:test"),
    )
    return token


def _of_leaver(w: World, kind: CredentialKind, to: Status) -> str:
    """A token of an admin who then left Active (which revokes it too)."""
    leaver = w.user(role=Role.ADMIN)
    token = w.token(kind, leaver)[1]
    w.leave_active(leaver, to)
    return token


def _unrevoked_blocked(w: World) -> str:
    """A credential whose revocation went missing: the status check alone stops it."""
    leaver = w.user(role=Role.ADMIN)
    token = w.token(CredentialKind.PERSONAL, leaver)[1]
    with w.container.engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == leaver).values(status="blocked"))
    return token


TOKENS: dict[str, Callable[[World], str]] = {
    "forged": lambda w: f"rst.{w.tenant.id}.{'A' * 43}",
    "revoked": _revoked,
    "expired": lambda w: w.token(CredentialKind.PERSONAL, w.admin_id, expires_in=-timedelta(1))[1],
    "inactive_user": lambda w: _of_leaver(w, CredentialKind.PERSONAL, Status.INACTIVE),
    "blocked_user": lambda w: _of_leaver(w, CredentialKind.PERSONAL, Status.BLOCKED),
    "blocked_user_unrevoked": _unrevoked_blocked,
    "service_of_inactive_admin": lambda w: _of_leaver(w, CredentialKind.SERVICE, Status.INACTIVE),
    # The dashboard's HttpOnly cookie is not an API credential (its route,
    # admin_profile, may lift blocks: only the profile page may use it).
    "dashboard_cookie": lambda w: w.session(w.owner_email, CredentialKind.SESSION),
    "member": lambda w: w.session(w.emails[w.member_id]),
    "admin": lambda w: w.session(w.emails[w.admin_id]),
    "owner": lambda w: w.session(w.owner_email),
    "personal": lambda w: w.token(CredentialKind.PERSONAL, w.admin_id)[1],
    "service": lambda w: w.token(CredentialKind.SERVICE, w.tenant.owner.id)[1],
    "scim": lambda w: w.token(CredentialKind.SCIM, w.tenant.owner.id)[1],
}


def make_caller(w: World, name: str) -> dict[str, str]:
    """Headers for caller `name`, made fresh."""
    return {} if name == "anonymous" else bearer(TOKENS[name](w))


# Path parameters: how to make a real one of this workspace. A parameter not named
# here fails the test: declare how to make it (and whether it is this workspace's).
@dataclass(frozen=True)
class Param:
    make: Callable[[World, dict[str, str]], str]
    owned: bool = True  # an id of this workspace (another workspace's caller: 404)


def _rule(w: World) -> str:
    made = w.api("POST", f"{API}/automations", RULE)
    w.mine.add(made["id"])
    return str(made["id"])


def _run(w: World, params: dict[str, str]) -> str:
    rule = params.setdefault("rule_id", _rule(w))
    made = w.api("POST", f"{API}/automations/{rule}/runs", {"dry_run": True})
    w.mine.add(made["id"])
    return str(made["id"])


def _job(w: World) -> str:
    made = w.api(
        "POST",
        f"{API}/bulk-actions",
        {"status": "inactive", "user_ids": [w.user()], "dry_run": True},
    )
    w.mine.add(made["id"])
    return str(made["id"])


def _invitation(w: World, key: str) -> str:
    made = w.api("POST", f"{API}/invitations", {"email": f"{w.unique('inv')}@x.example"})
    w.mine.update((made["id"], made["email"]))
    return str(made[key])


def _token_id(w: World) -> str:
    cid = w.token(CredentialKind.SERVICE, w.tenant.owner.id)[0]
    w.mine.add(cid)
    return cid


HOOK = {"url": "https://hooks.example.com/roster", "events": ["*"]}


def _endpoint(w: World) -> str:
    made = w.api("POST", f"{API}/webhook-endpoints", HOOK)
    w.mine.add(made["id"])
    return str(made["id"])


def _delivery(w: World, params: dict[str, str]) -> str:
    endpoint = params.setdefault("endpoint_id", _endpoint(w))
    made = w.api("POST", f"{API}/webhook-endpoints/{endpoint}/test", None)
    w.mine.add(made["delivery_id"])
    return str(made["delivery_id"])


def _group(w: World) -> str:
    made = w.scim(
        "POST",
        f"{SCIM_PREFIX}/Groups",
        {"schemas": [CORE_GROUP], "displayName": w.unique("Group ")},
    )
    w.mine.add(made["id"])
    return str(made["id"])


PARAMS: dict[str, Param] = {
    "user_id": Param(lambda w, _: w.user()),
    "token_id": Param(lambda w, _: _token_id(w)),
    "job_id": Param(lambda w, _: _job(w)),
    "rule_id": Param(lambda w, p: p.get("rule_id") or _rule(w)),
    "run_id": Param(_run),
    "invitation_id": Param(lambda w, _: _invitation(w, "id")),
    "token": Param(lambda w, _: _invitation(w, "token"), owned=False),  # the credential itself
    "group_id": Param(lambda w, _: _group(w)),
    "endpoint_id": Param(lambda w, p: p.get("endpoint_id") or _endpoint(w)),
    "delivery_id": Param(_delivery),
    "schema_id": Param(lambda w, _: CORE_USER, owned=False),
    "type_id": Param(lambda w, _: "User", owned=False),
    "rest": Param(lambda w, _: "Nothing/here", owned=False),
}

RULE = {
    "name": "Matrix rule",
    "enabled": False,
    "trigger": {"type": "schedule", "daily_at": "03:00"},
    "conditions": [{"field": "role", "op": "eq", "value": "member"}],
    "action": {"type": "set_status", "status": "inactive", "note": "matrix"},
}

# Minimal valid bodies: an allowed caller must not be refused for its body.
Body = Callable[[World, dict[str, str]], Any]
BODIES: dict[str, Body] = {
    f"POST {API}/auth/sessions": lambda w, _: {
        "workspace": w.tenant.workspace.slug,
        "email": w.emails[w.member_id],
        "password": PASSWORD,
    },
    f"POST {API}/tokens": lambda w, _: {"kind": "service", "name": w.unique("t")},
    f"POST {API}/users": lambda w, _: {"email": f"{w.unique('new')}@x.example", "name": "New"},
    f"PATCH {API}/users/{{user_id}}": lambda w, _: {"name": "Renamed"},
    f"PUT {API}/users/{{user_id}}/status": lambda w, _: {"status": "inactive"},
    f"PUT {API}/users/{{user_id}}/review": lambda w, _: {"review_by": "2099-01-01", "note": "m"},
    f"POST {API}/invitations": lambda w, _: {"email": f"{w.unique('inv')}@x.example"},
    f"POST {API}/invitations/{{token}}/accept": lambda w, _: {"password": PASSWORD},
    f"POST {API}/auth/password-resets": lambda w, _: {
        "workspace": w.tenant.workspace.slug,
        "email": f"{w.unique('reset')}@x.example",
    },
    f"POST {API}/auth/password-resets/{{token}}": lambda w, _: {"password": PASSWORD},
    f"PATCH {API}/workspace": lambda w, _: {"reactivate_on_sign_in": False},
    f"POST {API}/bulk-actions": lambda w, _: {
        "status": "inactive",
        "user_ids": [w.user()],
        "dry_run": True,
    },
    f"POST {API}/automations": lambda w, _: RULE,
    f"POST {API}/webhook-endpoints": lambda w, _: HOOK,
    f"PATCH {API}/webhook-endpoints/{{endpoint_id}}": lambda w, _: {"description": "matrix"},
    f"PUT {API}/automations/{{rule_id}}": lambda w, _: RULE,
    f"POST {API}/automations/{{rule_id}}/runs": lambda w, _: {"dry_run": True},
    f"POST {API}/events": lambda w, _: {"type": "matrix.ping", "user_id": w.member_id},
    f"POST {SCIM_PREFIX}/Users/.search": lambda w, _: {"schemas": [SEARCH]},
    f"POST {SCIM_PREFIX}/Groups/.search": lambda w, _: {"schemas": [SEARCH]},
    f"POST {SCIM_PREFIX}/Users": lambda w, _: {
        "schemas": [CORE_USER],
        "userName": f"{w.unique('scim')}@x.example",
    },
    f"PUT {SCIM_PREFIX}/Users/{{user_id}}": lambda w, p: {
        "schemas": [CORE_USER],
        "userName": w.emails.get(p["user_id"], "x@x.example"),
    },
    f"PATCH {SCIM_PREFIX}/Users/{{user_id}}": lambda w, _: {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Renamed"}],
    },
    f"POST {SCIM_PREFIX}/Groups": lambda w, _: {
        "schemas": [CORE_GROUP],
        "displayName": w.unique("Group "),
    },
    f"PUT {SCIM_PREFIX}/Groups/{{group_id}}": lambda w, _: {
        "schemas": [CORE_GROUP],
        "displayName": w.unique("Group "),
    },
    f"PATCH {SCIM_PREFIX}/Groups/{{group_id}}": lambda w, _: {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "displayName", "value": w.unique("Group ")}],
    },
    f"POST {SCIM_PREFIX}/.search": lambda w, _: {"schemas": [SEARCH]},
}
FORM_BODIES: dict[str, Body] = {
    # RFC 7662: a form. The token is this workspace's member's session.
    f"POST {API}/introspect": lambda w, _: {"token": w.member_token},
}
QUERIES = {
    # Required query parameters.
    f"GET {API}/billing/usage": "?from=2026-01-01&to=2026-01-31",
}
CONSUMES_CALLER = {f"DELETE {API}/auth/sessions/current"}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    params: tuple[str, ...]
    has_body: bool

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def operations(app: FastAPI) -> list[Operation]:
    """Every operation of the OpenAPI document, and every SCIM route."""
    found: list[Operation] = []
    for path, ops in app.openapi()["paths"].items():
        for method, op in ops.items():
            names = tuple(p["name"] for p in op.get("parameters", []) if p["in"] == "path")
            found.append(Operation(method.upper(), path, names, "requestBody" in op))
    for path, route in api_routes(app):
        if path.startswith(SCIM_PREFIX):
            for method in sorted(route.methods or ()):
                names = tuple(route.param_convertors)
                found.append(Operation(method, path, names, has_body=False))  # bodies: BODIES
    return found


def fill(key: str, path: str, params: dict[str, str]) -> str:
    for name, value in params.items():
        path = path.replace(f"{{{name}}}", value).replace(f"{{{name}:path}}", value)
    return path + QUERIES.get(key, "")


@pytest.fixture(scope="module")
def world(engine: Engine, database_url: str) -> World:
    container = Container(settings=Settings(database_url=database_url), engine=engine)
    tenant = new_tenant(container, owner_password_hash=PASSWORD_HASH)
    other = new_tenant(container, owner_password_hash=PASSWORD_HASH)
    app = create_app(container)
    client = TestClient(app)
    _, owner_token = create_token(
        container.uow(),
        workspace_id=tenant.id,
        kind=CredentialKind.PERSONAL,
        name=None,
        user_id=tenant.owner.id,
        now=container.clock(),
        route=Route.CLI,
        actor=Actor(None, "cli:test"),
    )
    _, scim_token = create_token(
        container.uow(),
        workspace_id=tenant.id,
        kind=CredentialKind.SCIM,
        name="setup",
        user_id=tenant.owner.id,
        now=container.clock(),
        route=Route.CLI,
        actor=Actor(None, "cli:test"),
    )
    w = World(
        container, client, app, tenant, other, "", "", bearer(owner_token), bearer(scim_token)
    )
    w.member_id = w.user()
    w.admin_id = w.user(role=Role.ADMIN)
    w.mine.update((tenant.id, tenant.owner.id, tenant.owner.email, tenant.workspace.slug))
    w.member_token = w.session(w.emails[w.member_id])
    return w


def other_caller(w: World, audience: Audience) -> dict[str, str]:
    """Another workspace's most capable caller for `audience`: its scim token for
    SCIM, its owner's personal token otherwise."""
    kind = CredentialKind.SCIM if audience is Audience.SCIM else CredentialKind.PERSONAL
    return bearer(w.token(kind, w.other.owner.id, tenant=w.other)[1])


SAFE = ("GET", "HEAD", "OPTIONS")


def send(w: World, op: Operation, headers: dict[str, str], fresh: bool) -> Response:
    """Send `op` with real ids: new ones if `fresh` (a call that may change or use
    them up), else the ids this operation shares with its other callers."""
    params = {} if fresh else w.shared.setdefault(op.key, {})
    for name in op.params:
        if name not in PARAMS:
            pytest.fail(f"{op.key}: path parameter {name!r} is new: declare it in PARAMS")
        if name not in params:
            params[name] = PARAMS[name].make(w, params)
    path = fill(op.key, op.path, params)
    if op.key in FORM_BODIES:
        return w.client.request(
            op.method, path, data=FORM_BODIES[op.key](w, params), headers=headers
        )
    if op.has_body and op.key not in BODIES:
        pytest.fail(f"{op.key} takes a body: declare a minimal valid one in BODIES")
    body = BODIES[op.key](w, params) if op.key in BODIES else None
    return w.client.request(op.method, path, json=body, headers=headers)


def leaked(w: World, r: Response) -> list[str]:
    """This workspace's identifiers in another workspace's successful answer."""
    if not 200 <= r.status_code < 300:
        return []
    return sorted(i for i in w.mine if i and i in r.text)


def test_every_operation_answers_every_caller_as_the_table_says(world: World) -> None:
    w = world
    ops = operations(w.app)
    keys = {op.key for op in ops}
    undeclared = sorted(keys - set(ACCESS))
    assert not undeclared, f"new operations: say who may call them in ACCESS: {undeclared}"
    assert not sorted(set(ACCESS) - keys), "ACCESS names operations the app no longer has"
    assert len([o for o in ops if o.path.startswith(API)]) >= 39

    callers = {name: make_caller(w, name) for name in CALLERS if name != "other_workspace"}
    others = {a: other_caller(w, a) for a in (Audience.SCIM, Audience.ADMIN)}
    wrong: list[str] = []
    hostile = 0
    for op in ops:
        audience = ACCESS[op.key]
        owned = any(PARAMS[p].owned for p in op.params if p in PARAMS)
        for name in CALLERS:
            if name == "other_workspace":
                headers = others[Audience.SCIM if audience is Audience.SCIM else Audience.ADMIN]
            else:
                headers = callers[name]
            if op.key in CONSUMES_CALLER and name not in ("anonymous", "forged"):
                headers = (
                    other_caller(w, audience) if name == "other_workspace" else make_caller(w, name)
                )
            want = expected(op.key, name, owned)
            # A refusal changes nothing, and a read neither: they share their ids.
            r = send(w, op, headers, fresh=want is None and op.method not in SAFE)
            if want is None:
                ok = r.status_code in ALLOWED_ANSWER.get(op.key, OK)
                other = name == "other_workspace" and audience is not Audience.PUBLIC
                if other and (found := leaked(w, r)):
                    wrong.append(f"{op.key} as {name}: {r.status_code} shows {found[:3]}")
                    continue
            else:
                hostile += 1
                ok = r.status_code == want
            if not ok:
                wrong.append(
                    f"{op.key} as {name}: {r.status_code}, expected "
                    f"{want or 'an allowed answer'}: {r.text[:160]}"
                )
    tally.add(hostile=hostile, violations=len(wrong))
    assert not wrong, f"{len(wrong)} answers differ from the table:\n" + "\n".join(wrong)


# What the matrix found, each proved on its own (fixed in src).


def test_a_dashboard_cookie_sent_as_a_bearer_cannot_lift_a_block(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    """The cookie's route is admin_profile, which may unblock: through the API it
    would have lifted a block that personal tokens may not lift."""
    admin = add_user(container, tenant, "adm@x.example", role=Role.ADMIN)
    blocked = add_user(container, tenant, "blk@x.example", status=Status.BLOCKED)
    cookie = sign_in(
        container.uow(),
        workspace=tenant.workspace.slug,
        email="adm@x.example",
        password=PASSWORD,
        now=container.clock(),
        kind=CredentialKind.SESSION,
    ).token
    r = client.put(
        f"{API}/users/{blocked}/status",
        json={"status": "active", "note": "via the API"},
        headers=bearer(cookie),
    )
    assert (r.status_code, r.json()["code"]) == (401, "unauthenticated")
    personal = bearer(
        create_token(
            container.uow(),
            workspace_id=tenant.id,
            kind=CredentialKind.PERSONAL,
            name=None,
            user_id=admin,
            now=container.clock(),
            route=Route.CLI,
            actor=Actor(None, "cli:test"),
        )[1]
    )
    assert client.get(f"{API}/users/{blocked}", headers=personal).json()["status"] == "blocked"
    tally.add(hostile=1)


def test_a_service_token_invites_members_but_never_admins_or_owners(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    """An integration may not create users; an owner invitation it could accept
    itself would have made it an owner."""
    service = bearer(
        create_token(
            container.uow(),
            workspace_id=tenant.id,
            kind=CredentialKind.SERVICE,
            name="crm",
            user_id=tenant.owner.id,
            now=container.clock(),
            route=Route.CLI,
            actor=Actor(None, "cli:test"),
        )[1]
    )
    for role in ("owner", "admin"):
        r = client.post(
            f"{API}/invitations", json={"email": f"{role}@x.example", "role": role}, headers=service
        )
        assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    assert client.get(f"{API}/invitations", headers=service).json()["items"] == []
    member = client.post(f"{API}/invitations", json={"email": "m@x.example"}, headers=service)
    assert (member.status_code, member.json()["role"]) == (201, "member")
    tally.add(hostile=2)


# --- the dashboard: every page and form, for every kind of browser --------------------

DASHBOARD_PUBLIC = {
    "GET /admin",
    "GET /admin/sign-in",
    "POST /admin/sign-in",
    "GET /admin/forgot-password",
    "POST /admin/forgot-password",
    "GET /admin/password-reset/{reset_token}",
    "POST /admin/password-reset/{reset_token}",
}
"""Pages anyone may open; every other dashboard route is for owners and admins."""
DASHBOARD_REFUSED = (
    "no cookie",
    "forged",
    "signed out",
    "inactive admin",
    "blocked admin",
    "api session as cookie",
    "personal token as cookie",
)


def _leaver_cookie(w: World, how: str) -> str:
    """A dashboard session of an admin who then signed out or left Active."""
    leaver = w.user(role=Role.ADMIN)
    cookie = w.session(w.emails[leaver], CredentialKind.SESSION)
    if how == "signed out":
        out = TestClient(w.app, cookies={SESSION_COOKIE: cookie}).post(
            "/admin/sign-out", data={"csrf_token": csrf_token_for(cookie)}, follow_redirects=False
        )
        assert out.status_code == 303
    else:
        w.leave_active(leaver, Status.INACTIVE if how == "inactive admin" else Status.BLOCKED)
    return cookie


COOKIES: dict[str, Callable[[World], str | None]] = {
    "no cookie": lambda w: None,
    "forged": lambda w: f"rst.{w.tenant.id}.{'A' * 43}",
    "signed out": lambda w: _leaver_cookie(w, "signed out"),
    "inactive admin": lambda w: _leaver_cookie(w, "inactive admin"),
    "blocked admin": lambda w: _leaver_cookie(w, "blocked admin"),
    "api session as cookie": lambda w: w.session(w.emails[w.admin_id]),
    "personal token as cookie": lambda w: w.token(CredentialKind.PERSONAL, w.admin_id)[1],
    "member": lambda w: w.session(w.emails[w.member_id], CredentialKind.SESSION),
    "admin": lambda w: w.session(w.emails[w.admin_id], CredentialKind.SESSION),
    "owner": lambda w: w.session(w.owner_email, CredentialKind.SESSION),
    "other workspace admin": lambda w: w.session(
        w.other.owner.email, CredentialKind.SESSION, tenant=w.other
    ),
}


def _dashboard_verdict(w: World, key: str, name: str, owned: bool, r: Response) -> str | None:
    """What `name` should have got, when `r` is not it (None: as expected)."""
    location = r.headers.get("location", "")
    # Signing out sends the browser to sign in too: its own redirect clears the cookie.
    signs_out = key == SIGNS_OUT and f'{SESSION_COOKIE}=""' in r.headers.get("set-cookie", "")
    if name in DASHBOARD_REFUSED:
        ok = r.status_code == 303 and location.startswith("/admin/sign-in")
        return None if ok else "303 to sign-in"
    if name == "member":
        return None if r.status_code == 403 else "403"
    if name == "other workspace admin" and owned:
        return None if r.status_code == 404 else "404"
    if r.status_code not in (200, 303) or location.startswith("/admin/sign-in") != signs_out:
        return "200 or 303 (not to sign-in, but for signing out)"
    if name == "other workspace admin" and (found := leaked(w, r)):
        return f"nothing of this workspace, got {found[:3]}"
    return None


def _live(w: World, credential_id: str) -> bool:
    with w.container.engine.connect() as conn:
        row = conn.execute(
            select(credentials.c.revoked_at).where(credentials.c.id == credential_id)
        ).one()
    return row.revoked_at is None


BROWSERS = tuple(COOKIES)
DASHBOARD_FORM_DATA = {
    # This workspace's users must stay as they are while the matrix runs.
    "/admin/settings": {"seat_limit": ""},
    "/admin/automations/{rule_id}/runs": {"dry_run": "1"},
    "/admin/bulk-actions": {"q": "nobody-matches-this", "nonce": ""},
    "/admin/bulk-actions/new": {"q": "nobody-matches-this"},
}
SIGNS_OUT = "POST /admin/sign-out"
CROSS_WORKSPACE_DASHBOARD = {
    # Answers like for a token already revoked (and revokes nothing: checked).
    "POST /admin/tokens/{token_id}/revoke": "/admin/tokens",
}


def test_every_dashboard_route_answers_every_browser_as_expected(world: World) -> None:
    w = world
    routes = [
        (method, path, tuple(route.param_convertors))
        for path, route in api_routes(w.app)
        if path.startswith("/admin")
        for method in sorted(route.methods or ())
    ]
    assert len(routes) >= 30
    cookies = {name: COOKIES[name](w) for name in BROWSERS}
    wrong: list[str] = []
    hostile = 0
    for method, path, names in routes:
        key = f"{method} {path}"
        if key in DASHBOARD_PUBLIC:
            continue
        if method == "POST" and path not in FORM_DATA:
            pytest.fail(f"{key}: a new form: give a valid body in FORM_DATA (conftest)")
        for name in BROWSERS:
            cookie = cookies[name]
            if key == SIGNS_OUT and name not in ("no cookie", "forged"):
                cookie = COOKIES[name](w)
            refused = name in (*DASHBOARD_REFUSED, "member")
            fresh = method not in SAFE and not refused
            params = {} if fresh else w.shared.setdefault(key, {})
            for n in names:
                if n not in params:
                    params[n] = PARAMS[n].make(w, params)
            data = {**FORM_DATA.get(path, {}), **DASHBOARD_FORM_DATA.get(path, {})}
            data["nonce"] = w.unique("nonce")
            if path == "/admin/users/new":  # each allowed caller adds a user of its own
                data["email"] = f"{w.unique('added')}@x.example"
            if cookie:
                data["csrf_token"] = csrf_token_for(cookie)
            browser = TestClient(w.app, cookies={SESSION_COOKIE: cookie} if cookie else None)
            body = data if method == "POST" else None
            r = browser.request(method, fill(key, path, params), data=body, follow_redirects=False)
            if key in CROSS_WORKSPACE_DASHBOARD and name == "other workspace admin":
                assert r.headers["location"] == CROSS_WORKSPACE_DASHBOARD[key]
                assert _live(w, params["token_id"]), f"{key} revoked another workspace's token"
                continue
            hostile += name in (*DASHBOARD_REFUSED, "member") or (
                name == "other workspace admin" and bool(names)
            )
            if want := _dashboard_verdict(w, key, name, bool(names), r):
                where = r.headers.get("location", "")
                wrong.append(f"{key} as {name}: {r.status_code} {where}, expected {want}")
    tally.add(hostile=hostile, violations=len(wrong))
    assert not wrong, f"{len(wrong)} answers differ:\n" + "\n".join(wrong)
