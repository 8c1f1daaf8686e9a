"""A bounded load driver: random status changes through every route at once, on
loopback only, for a fixed time, on one shared set of users. It records every
answer for the checker.

Routes (PRODUCT §2): admin_profile (the dashboard's profile form, signed in with a
real session cookie and CSRF token), admin_api (personal tokens), bulk (bulk-action
jobs), automation (a service token's PUT, manual rule runs, external events that
fire event rules), scim (PATCH active), sign_in (reactivate_on_sign_in is on),
invitation (create + accept for existing users), upgrade, and cli (in-process, on a
thread, as the operator's shell would)."""

import asyncio
import base64
import json
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from roster.adapters.passwords import hash_password
from roster.adapters.tables import bulk_jobs, users
from roster.bootstrap import Container
from roster.domain import errors
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services.access import create_token
from roster.services.status import change_status
from roster.services.users import NewUser, add_users
from roster.services.workspaces import update_settings
from tests.conftest import Tenant, new_tenant

PASSWORD = "stress-test-password"
DOMAIN_CODES = {
    "user_blocked",
    "transition_not_allowed",
    "cannot_change_own_status",
    "last_owner",
    "seat_limit_reached",
    "reason_required",
    "version_conflict",
}
ADMIN_PROFILE_CODES = {409: "conflict", 412: "version_conflict"}
WRONG_CONFIRMATIONS = 0.1
"""How often lifting a block on the profile is confirmed with a wrong password (a
stolen cookie's guess): refused, audited, and never a lift. Rare enough that the
admin's right answers clear their throttle before it blocks them."""
"""The dashboard answers a refusal it does not redirect (too many attempts) with a
page, not a problem: its HTTP status."""
SCIM_PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"


@dataclass
class Record:
    """What the driver saw, per route: answers by code, and changes applied."""

    ops: Counter[str] = field(default_factory=Counter)  # attempts, by route
    requests: int = 0  # HTTP requests sent, every kind
    answers: Counter[tuple[str, int, str]] = field(default_factory=Counter)
    applied: Counter[str] = field(default_factory=Counter)  # known applied (exact)
    maybe_applied: Counter[str] = field(default_factory=Counter)  # 2xx, applied or no-op
    refused: Counter[tuple[str, str]] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    busy: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # s, by op
    server_errors: list[str] = field(default_factory=list)
    uncertain: Counter[str] = field(default_factory=Counter)  # no answer: applied or not
    faults: list[str] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)  # bulk job ids the API accepted
    runs: list[str] = field(default_factory=list)  # automation run ids answered

    def p99_ms(self) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


@dataclass
class World:
    container: Container
    tenant: Tenant
    members: list[str]
    member_emails: dict[str, str]
    admin_emails: list[str]
    admin_headers: list[dict[str, str]]
    service_headers: dict[str, str]
    scim_headers: dict[str, str]
    rules: dict[str, str] = field(default_factory=dict)  # schedule rules: to-status → id


def build_world(container: Container, members: int, admins: int = 3) -> World:
    tenant = new_tenant(container)
    update_settings(
        container.uow(),
        workspace_id=tenant.id,
        reactivate_on_sign_in=True,
        route=Route.CLI,
        actor=Actor(None, "cli:test"),
        now=container.clock(),
    )
    secret = hash_password(PASSWORD)
    people = [  # one in 40 at a domain a rule blocks
        NewUser(
            f"m{i}@{'risky' if i % 40 == 0 else 'stress'}.example",
            f"Member {i}",
            Role.MEMBER,
            password_hash=secret,
        )
        for i in range(members)
    ]
    people += [
        NewUser(f"a{i}@stress.example", f"Admin {i}", Role.ADMIN, password_hash=secret)
        for i in range(admins)
    ]
    with container.uow() as uow:
        made = add_users(
            uow,
            workspace_id=tenant.id,
            new=people,
            route=Route.CLI,
            actor=Actor(id=None, name="stress"),
            now=container.clock(),
            batch_id=None,
        )
        uow.commit()
    member_users, admin_users = made[:members], made[members:]

    def bearer(kind: CredentialKind, user_id: str | None) -> dict[str, str]:
        _, token = create_token(
            container.uow(),
            workspace_id=tenant.id,
            kind=kind,
            name=f"stress {kind.value}",
            user_id=user_id,
            now=container.clock(),
            route=Route.CLI,
            actor=Actor(None, "cli:test"),
        )
        return {"Authorization": f"Bearer {token}"}

    return World(
        container=container,
        tenant=tenant,
        members=[u.id for u in member_users],
        member_emails={u.id: u.email for u in member_users},
        admin_emails=[a.email for a in admin_users],
        admin_headers=[bearer(CredentialKind.PERSONAL, a.id) for a in admin_users],
        service_headers=bearer(CredentialKind.SERVICE, tenant.owner.id),
        scim_headers=bearer(CredentialKind.SCIM, None),
    )


def create_rules(world: World, url: str) -> None:
    """Schedule rules (run by hand; weekly otherwise): Active → Inactive, Inactive →
    Active, every member → Inactive (Blocked ones are refused), the risky domain →
    Blocked; and event rules on `payment.failed` / `payment.recovered`."""
    actions: dict[str, dict[str, Any]] = {
        "inactive": {"type": "set_status", "status": "inactive", "note": "stress sweep"},
        "active": {"type": "set_status", "status": "active"},
        "blocked": {"type": "set_status", "status": "blocked", "reason_code": "needs_review"},
    }
    member = {"field": "role", "op": "eq", "value": "member"}  # never the admins
    sweeps: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
        "deactivate": (
            [member, {"field": "status", "op": "in", "value": ["active"]}],
            actions["inactive"],
        ),
        "reactivate": (
            [member, {"field": "status", "op": "eq", "value": "inactive"}],
            actions["active"],
        ),
        "members": ([member], actions["inactive"]),
        "risky": (
            [member, {"field": "email_domain", "op": "eq", "value": "risky.example"}],
            actions["blocked"],
        ),
    }
    with httpx.Client(base_url=url, headers=world.admin_headers[0], timeout=30) as client:
        for name, (conditions, action) in sweeps.items():
            r = client.post(
                "/api/v1/automations",
                json={
                    "name": f"stress sweep {name}",
                    "enabled": True,
                    "trigger": {"type": "schedule", "every_minutes": 10080},
                    "conditions": conditions,
                    "action": action,
                },
            )
            r.raise_for_status()
            world.rules[name] = r.json()["id"]
        for event, action in (
            ("payment.failed", {**actions["blocked"], "reason_code": "payment_dispute"}),
            ("payment.recovered", actions["active"]),
        ):
            r = client.post(
                "/api/v1/automations",
                json={
                    "name": f"stress on {event}",
                    "enabled": True,
                    "trigger": {"type": "event", "event": event},
                    "conditions": [],
                    "action": action,
                },
            )
            r.raise_for_status()


Op = Callable[[httpx.AsyncClient, random.Random, World, Record], Awaitable[None]]


def _target(rng: random.Random) -> dict[str, Any]:
    status = rng.choice(list(Status))
    body: dict[str, Any] = {"status": status.value}
    if status == Status.BLOCKED and rng.random() < 0.9:
        body["reason_code"] = rng.choice(list(ReasonCode)).value
    if rng.random() < 0.5:
        body["note"] = "stress"
    return body


async def _send(
    client: httpx.AsyncClient, record: Record, method: str, url: str, **kwargs: Any
) -> httpx.Response:
    record.requests += 1
    return await client.request(method, url, **kwargs)


async def _put_status(
    client: httpx.AsyncClient,
    rng: random.Random,
    world: World,
    record: Record,
    route: str,
    headers: dict[str, str],
) -> None:
    uid = rng.choice(world.members)
    r = await _send(
        client, record, "PUT", f"/api/v1/users/{uid}/status", json=_target(rng), headers=headers
    )
    _record(record, route, r)
    if r.status_code == 200 and r.json()["changed"]:
        record.applied[route] += 1


async def admin_api(
    client: httpx.AsyncClient, rng: random.Random, world: World, record: Record
) -> None:
    await _put_status(client, rng, world, record, "admin_api", rng.choice(world.admin_headers))


async def automation(
    client: httpx.AsyncClient, rng: random.Random, world: World, record: Record
) -> None:
    """An integration's service token changes one user (route automation)."""
    await _put_status(client, rng, world, record, "automation", world.service_headers)


async def automation_run(
    client: httpx.AsyncClient, rng: random.Random, world: World, record: Record
) -> None:
    """Run a sweep rule now, over everyone it selects (route automation, chunked)."""
    rule = rng.choices(["deactivate", "reactivate", "members", "risky"], [5, 5, 1, 1])[0]
    r = await _send(
        client,
        record,
        "POST",
        f"/api/v1/automations/{world.rules[rule]}/runs",
        json={"dry_run": False},
        headers=rng.choice(world.admin_headers),
    )
    _record(record, "automation_run", r)
    if r.status_code == 201:
        record.runs.append(r.json()["id"])


async def automation_event(
    client: httpx.AsyncClient, rng: random.Random, world: World, record: Record
) -> None:
    """An external event about one user; event rules act on it (route automation)."""
    uid = rng.choice(world.members)
    event = rng.choice(["payment.failed", "payment.recovered", "payment.recovered"])
    r = await _send(
        client,
        record,
        "POST",
        "/api/v1/events",
        json={"type": event, "user_id": uid, "data": {"amount": rng.randint(1, 99)}},
        headers=world.service_headers,
    )
    _record(record, "automation_event", r)
    if r.status_code == 202:
        record.runs += [run["id"] for run in r.json()["runs"]]


async def bulk(client: httpx.AsyncClient, rng: random.Random, world: World, record: Record) -> None:
    """A bulk action by id: mostly what an admin selects on the users page (every
    user in one status, moved to another), sometimes a random part of everyone;
    blocking ones are small (the dashboard and CLI lift blocks one at a time)."""
    to = rng.choices(["active", "inactive", "blocked"], [5, 5, 1])[0]
    if to == "blocked":
        ids = rng.sample(world.members, min(rng.randint(1, 20), len(world.members)))
    elif rng.random() < 0.75:
        ids = await asyncio.to_thread(_in_status, world, "inactive" if to == "active" else "active")
    else:
        ids = rng.sample(world.members, rng.randint(1, len(world.members)))
    body: dict[str, Any] = {"status": to, "user_ids": ids or world.members[:1], "note": "stress"}
    if to == "blocked":
        body["reason_code"] = "needs_review"
    r = await _send(
        client, record, "POST", "/api/v1/bulk-actions", json=body, headers=world.admin_headers[0]
    )
    _record(record, "bulk", r)
    if r.status_code == 202:
        record.jobs.append(r.json()["id"])


def _in_status(world: World, status: str) -> list[str]:
    """The members the users page lists in one status (a filter, then select all)."""
    with world.container.engine.connect() as conn:
        return list(
            conn.execute(
                select(users.c.id).where(
                    users.c.workspace_id == world.tenant.id,
                    users.c.status == status,
                    users.c.role == "member",
                )
            ).scalars()
        )


async def scim(client: httpx.AsyncClient, rng: random.Random, world: World, record: Record) -> None:
    uid = rng.choice(world.members)
    active = rng.random() < 0.5
    r = await _send(
        client,
        record,
        "PATCH",
        f"/scim/v2/Users/{uid}",
        json={
            "schemas": [SCIM_PATCH],
            "Operations": [{"op": "replace", "path": "active", "value": active}],
        },
        headers=world.scim_headers,
    )
    _record(record, "scim", r)
    if r.status_code == 400 and r.json().get("scimType") == "mutability":  # docs/scim.md
        record.refused[("scim", "user_blocked")] += 1
    elif r.status_code in (409, 412):  # a full workspace, or a change that raced this one
        record.refused[("scim", str(r.status_code))] += 1
    elif r.status_code == 200:
        record.maybe_applied["scim"] += 1


async def scim_identity(
    client: httpx.AsyncClient, rng: random.Random, world: World, record: Record
) -> None:
    """An identity provider re-keys a member (externalId) or provisions a look-alike
    of their address (another case, a trailing dot): a Blocked member's identity and
    address stay theirs (400 mutability, 409 naming the block), both audited on
    route scim, so they are counted there (and an unanswered request too)."""
    uid = rng.choice(world.members)
    spelling = world.member_emails[uid].upper() + "."
    rekey = {"op": "replace", "path": "externalId", "value": f"ext-{rng.random()}"}
    method, url, body = (
        ("PATCH", f"/scim/v2/Users/{uid}", {"schemas": [SCIM_PATCH], "Operations": [rekey]})
        if rng.random() < 0.5
        else ("POST", "/scim/v2/Users", {"schemas": [SCIM_USER], "userName": spelling})
    )
    try:
        r = await _send(client, record, method, url, json=body, headers=world.scim_headers)
    except httpx.TransportError:
        record.uncertain["scim"] += 1
        raise
    _record(record, "scim", r)
    refusal = r.json() if r.status_code in (400, 409) else {}
    if refusal.get("scimType") == "mutability" or "Blocked user" in refusal.get("detail", ""):
        record.refused[("scim", "user_blocked")] += 1
    elif r.status_code == 201:
        record.server_errors.append(f"scim_identity: {spelling!r} made a second account")


async def sign_in(
    client: httpx.AsyncClient, rng: random.Random, world: World, record: Record
) -> None:
    uid = rng.choice(world.members)
    r = await _send(
        client,
        record,
        "POST",
        "/api/v1/auth/sessions",
        json={
            "workspace": world.tenant.workspace.slug,
            "email": world.member_emails[uid],
            "password": PASSWORD,
        },
    )
    _record(record, "sign_in", r)
    if r.status_code == 403 and _code(r) not in DOMAIN_CODES:  # user_blocked: counted
        record.refused[("sign_in", "not_active")] += 1  # reactivation is on: audited
    if r.status_code == 201:
        record.maybe_applied["sign_in"] += 1
        me = await _send(
            client,
            record,
            "GET",
            "/api/v1/me",
            headers={"Authorization": f"Bearer {r.json()['token']}"},
        )
        _record(record, "me", me)


async def invitation(
    client: httpx.AsyncClient, rng: random.Random, world: World, record: Record
) -> None:
    """Invite an existing member and accept: Inactive → Active, Blocked refused."""
    uid = rng.choice(world.members)
    r = await _send(
        client,
        record,
        "POST",
        "/api/v1/invitations",
        json={"email": world.member_emails[uid]},
        headers=world.service_headers,
    )
    _record(record, "invitation", r)
    if r.status_code != 201:
        return
    accepted = await _send(
        client, record, "POST", f"/api/v1/invitations/{r.json()['token']}/accept", json={}
    )
    _record(record, "invitation", accepted)
    if accepted.status_code == 200:
        record.maybe_applied["invitation"] += 1


async def upgrade(
    client: httpx.AsyncClient, rng: random.Random, world: World, record: Record
) -> None:
    uid = rng.choice(world.members)
    r = await _send(
        client, record, "POST", f"/api/v1/users/{uid}/upgrade", headers=world.service_headers
    )
    _record(record, "upgrade", r)
    if r.status_code == 200 and r.json()["changed"]:
        record.applied["upgrade"] += 1


_VERSION = re.compile(r'name="version" value="(\d+)"')
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
_TARGETS = re.compile(r'name="to" value="(\w+)"')
_BADGE = re.compile(r'class="badge badge-(\w+)"')


async def admin_sign_in(client: httpx.AsyncClient, world: World, email: str) -> None:
    """Sign in to the dashboard as a browser does: the form's CSRF token, then POST."""
    page = await client.get("/admin/sign-in")
    token = _CSRF.search(page.text)
    assert token, "no CSRF token on the sign-in page"
    r = await client.post(
        "/admin/sign-in",
        data={
            "workspace": world.tenant.workspace.slug,
            "email": email,
            "password": PASSWORD,
            "csrf_token": token.group(1),
        },
    )
    assert r.status_code == 303, r.text[:300]
    assert client.cookies.get("roster_session"), "no session cookie after signing in"


async def admin_profile(
    client: httpx.AsyncClient, rng: random.Random, world: World, record: Record
) -> None:
    """Open a member's profile and post its status form with one offered target;
    lifting a block carries a note and the admin's own password."""
    uid = rng.choice(world.members)
    page = await _send(client, record, "GET", f"/admin/users/{uid}")
    if page.status_code != 200:
        _record(record, "admin_profile_page", page)
        return
    version, csrf = _VERSION.search(page.text), _CSRF.search(page.text)
    targets, badge = _TARGETS.findall(page.text), _BADGE.search(page.text)
    if not (version and csrf and targets and badge):
        record.server_errors.append(f"admin_profile: form not found on {uid}")
        return
    to = rng.choice(targets)
    form = {"to": to, "version": version.group(1), "csrf_token": csrf.group(1), "note": ""}
    if to == "blocked":
        form["reason_code"] = rng.choice(list(ReasonCode)).value
    guessed = badge.group(1) == "blocked" and rng.random() < WRONG_CONFIRMATIONS
    if badge.group(1) == "blocked":
        password = "a wrong guess" if guessed else PASSWORD
        form |= {"note": "reviewed, block lifted", "password": password}
    r = await _send(client, record, "POST", f"/admin/users/{uid}/status", data=form)
    _record(record, "admin_profile", r)
    refusal = _carried_errors(r)
    if guessed and refusal is not None and "password" in refusal:  # a refused attempt
        record.refused[("admin_profile", "password_mismatch")] += 1
    elif refusal is not None:  # refused: the form's messages ride back to the profile
        said = " ".join(refusal.values())
        kind = "version_conflict" if "changed since you read it" in said else "conflict"
        record.refused[("admin_profile", kind)] += 1
    elif r.status_code == 303:
        record.applied["admin_profile"] += int(to != badge.group(1))
    elif r.status_code in ADMIN_PROFILE_CODES:
        record.refused[("admin_profile", ADMIN_PROFILE_CODES[r.status_code])] += 1


def _carried_errors(r: httpx.Response) -> dict[str, str] | None:
    """A refused dashboard form redirects back with its messages in the `roster_form`
    cookie (base64 JSON, then its signature): those messages; None when applied."""
    if r.status_code != 303:
        return None
    for header in r.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name.strip() == "roster_form" and "." in rest.split(";", 1)[0]:
            encoded = rest.split(";", 1)[0].rsplit(".", 1)[0].strip('"')
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            errors: dict[str, str] = json.loads(raw)["errors"]
            return errors
    return None


def _code(r: httpx.Response) -> str:
    if r.headers.get("content-type", "").startswith("application/problem+json"):
        return str(r.json().get("code", ""))
    return ""


def _record(record: Record, route: str, r: httpx.Response) -> None:
    record.ops[route] += 1
    code = ""
    if r.headers.get("content-type", "").startswith("application/problem+json"):
        code = r.json().get("code", "")
    record.answers[(route, r.status_code, code)] += 1
    if code in DOMAIN_CODES:
        record.refused[(route, code)] += 1
    if r.status_code >= 500:
        record.server_errors.append(f"{route}: {r.status_code} {r.text[:200]}")
        record.uncertain[route] += 1


def cli_thread(world: World, record: Record, deadline: float, seed: int) -> None:
    """The operator at the server's shell: blocks and lifts blocks (route cli)."""
    rng = random.Random(seed)
    c = world.container
    while time.monotonic() < deadline:
        uid = rng.choice(world.members)
        to = rng.choices([Status.BLOCKED, Status.ACTIVE, Status.INACTIVE], [1, 3, 2])[0]
        record.ops["cli"] += 1
        started = time.monotonic()
        try:
            result = change_status(
                c.uow(),
                workspace_id=world.tenant.id,
                user_id=uid,
                to=to,
                route=Route.CLI,
                actor=Actor(id=None, name="cli:stress"),
                reason_code=ReasonCode.NEEDS_REVIEW,
                note="operator",
                now=c.clock(),
            )
            record.applied["cli"] += int(result.changed)
        except errors.DomainError as refusal:
            record.refused[("cli", refusal.code)] += 1
        except Exception as failure:
            record.server_errors.append(f"cli: {failure!r}"[:300])
            record.uncertain["cli"] += 1
            time.sleep(0.05)
        record.latencies.append(time.monotonic() - started)


OPS: dict[str, tuple[Op, int]] = {
    "admin_profile": (admin_profile, 3),
    "admin_api": (admin_api, 3),
    "automation": (automation, 3),
    "automation_event": (automation_event, 1),
    "scim": (scim, 3),
    "scim_identity": (scim_identity, 1),
    "sign_in": (sign_in, 2),
    "invitation": (invitation, 2),
    "upgrade": (upgrade, 2),
    "bulk": (bulk, 1),
    "automation_run": (automation_run, 1),
}
"""name → (operation, weight) for the general workers; `cli` runs beside them on its
own thread."""
BATCH_OPS: dict[str, tuple[Op, int]] = {"bulk": (bulk, 3), "automation_run": (automation_run, 2)}
"""The batch workers' mix: one request, thousands of changes."""
MAX_QUEUED_JOBS = 3
"""A batch worker starts no bulk job while this many wait (the drain stays short)."""


def _queued_jobs(world: World) -> int:
    """Bulk jobs waiting or running in the workspace (as many as allowed while
    PostgreSQL does not answer)."""
    try:
        with world.container.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).where(
                        bulk_jobs.c.workspace_id == world.tenant.id,
                        bulk_jobs.c.state.in_(["queued", "running"]),
                    )
                ).scalar_one()
            )
    except DBAPIError:
        return MAX_QUEUED_JOBS


async def drive(
    world: World, urls: list[str], seconds: float, concurrency: int, batchers: int, seed: int
) -> Record:
    """`concurrency` general workers (every route), `batchers` batch workers (bulk
    jobs and rule runs), and the cli thread, until `seconds` have passed."""
    record = Record()
    deadline = time.monotonic() + seconds

    async def worker(index: int, ops: dict[str, tuple[Op, int]]) -> None:
        rng = random.Random(seed * 1000 + index)
        names = list(ops)
        weights = [ops[n][1] for n in names]
        async with httpx.AsyncClient(base_url=urls[index % len(urls)], timeout=120) as client:
            await admin_sign_in(client, world, world.admin_emails[index % len(world.admin_emails)])
            while time.monotonic() < deadline:
                name = rng.choices(names, weights)[0]
                if (
                    ops is BATCH_OPS
                    and name == "bulk"
                    and await asyncio.to_thread(_queued_jobs, world) >= MAX_QUEUED_JOBS
                ):
                    name = "automation_run"
                started = time.monotonic()
                try:
                    await ops[name][0](client, rng, world, record)
                except (httpx.TransportError, DBAPIError) as failure:
                    # A server was killed or restarting, or PostgreSQL was (the
                    # driver reads the users page's selection itself): the change may
                    # or may not have landed, which the checker allows for.
                    record.server_errors.append(f"transport: {failure!r}")
                    record.uncertain[name] += 1
                    await asyncio.sleep(0.2)
                record.latencies.append(time.monotonic() - started)
                record.busy[name] += time.monotonic() - started

    cli = asyncio.to_thread(cli_thread, world, record, deadline, seed)
    await asyncio.gather(
        cli,
        *(worker(i, OPS) for i in range(concurrency)),
        *(worker(concurrency + i, BATCH_OPS) for i in range(batchers)),
    )
    return record
