"""A bounded load driver: random status changes through every route at once, on
loopback only, for a fixed time. It records every answer for the checker."""

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from roster.adapters.passwords import hash_password
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


@dataclass
class Record:
    """What the driver saw, per route: answers by code, and changes applied."""

    ops: Counter[str] = field(default_factory=Counter)
    answers: Counter[tuple[str, int, str]] = field(default_factory=Counter)
    applied: Counter[str] = field(default_factory=Counter)
    refused: Counter[tuple[str, str]] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    uncertain: Counter[str] = field(default_factory=Counter)  # no answer: applied or not
    faults: list[str] = field(default_factory=list)

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
    admin_headers: list[dict[str, str]]
    service_headers: dict[str, str]


def build_world(container: Container, members: int = 120, admins: int = 3) -> World:
    tenant = new_tenant(container)
    update_settings(container.uow(), workspace_id=tenant.id, reactivate_on_sign_in=True)
    secret = hash_password(PASSWORD)
    people = [
        NewUser(f"m{i}@stress.example", f"Member {i}", Role.MEMBER, password_hash=secret)
        for i in range(members)
    ]
    people += [NewUser(f"a{i}@stress.example", f"Admin {i}", Role.ADMIN) for i in range(admins)]
    with container.uow() as uow:
        users = add_users(
            uow,
            workspace_id=tenant.id,
            new=people,
            route=Route.CLI,
            actor=Actor(id=None, name="stress"),
            now=container.clock(),
            batch_id=None,
        )
        uow.commit()
    member_users, admin_users = users[:members], users[members:]

    def bearer(kind: CredentialKind, user_id: str) -> dict[str, str]:
        _, token = create_token(
            container.engine,
            workspace_id=tenant.id,
            kind=kind,
            name=f"stress {kind.value}",
            user_id=user_id,
            now=container.clock(),
        )
        return {"Authorization": f"Bearer {token}"}

    return World(
        container=container,
        tenant=tenant,
        members=[u.id for u in member_users],
        member_emails={u.id: u.email for u in member_users},
        admin_headers=[bearer(CredentialKind.PERSONAL, a.id) for a in admin_users],
        service_headers=bearer(CredentialKind.SERVICE, tenant.owner.id),
    )


Op = Callable[[httpx.AsyncClient, random.Random, World, Record], Awaitable[None]]


def _target(rng: random.Random) -> dict[str, Any]:
    status = rng.choice(list(Status))
    body: dict[str, Any] = {"status": status.value}
    if status == Status.BLOCKED and rng.random() < 0.9:
        body["reason_code"] = rng.choice(list(ReasonCode)).value
    if rng.random() < 0.5:
        body["note"] = "stress"
    return body


async def _put_status(
    client: httpx.AsyncClient,
    rng: random.Random,
    world: World,
    record: Record,
    route: str,
    headers: dict[str, str],
) -> None:
    uid = rng.choice(world.members)
    r = await client.put(f"/api/v1/users/{uid}/status", json=_target(rng), headers=headers)
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
    await _put_status(client, rng, world, record, "automation", world.service_headers)


async def sign_in(
    client: httpx.AsyncClient, rng: random.Random, world: World, record: Record
) -> None:
    uid = rng.choice(world.members)
    r = await client.post(
        "/api/v1/auth/sessions",
        json={
            "workspace": world.tenant.workspace.slug,
            "email": world.member_emails[uid],
            "password": PASSWORD,
        },
    )
    _record(record, "sign_in", r)
    if r.status_code == 201:
        me = await client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {r.json()['token']}"}
        )
        _record(record, "me", me)


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
        to = rng.choice([Status.BLOCKED, Status.ACTIVE, Status.INACTIVE])
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
    "admin_api": (admin_api, 4),
    "automation": (automation, 4),
    "sign_in": (sign_in, 1),
}
"""name → (operation, weight). Each capability adds its route here."""


async def drive(
    world: World, urls: list[str], seconds: float, concurrency: int, seed: int
) -> Record:
    record = Record()
    deadline = time.monotonic() + seconds
    names = list(OPS)
    weights = [OPS[n][1] for n in names]

    async def worker(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        async with httpx.AsyncClient(base_url=urls[index % len(urls)], timeout=30) as client:
            while time.monotonic() < deadline:
                name = rng.choices(names, weights)[0]
                started = time.monotonic()
                try:
                    await OPS[name][0](client, rng, world, record)
                except httpx.TransportError as failure:
                    # A server was killed or restarting: the change may or may not
                    # have landed, which the checker allows for.
                    record.server_errors.append(f"transport: {failure!r}")
                    record.uncertain[name] += 1
                    await asyncio.sleep(0.05)
                record.latencies.append(time.monotonic() - started)

    cli = asyncio.to_thread(cli_thread, world, record, deadline, seed)
    await asyncio.gather(cli, *(worker(i) for i in range(concurrency)))
    return record
