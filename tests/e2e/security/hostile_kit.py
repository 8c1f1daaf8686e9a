"""What the hostile-input tests share: bounded, repeatable Hypothesis settings, a
snapshot of everything a workspace holds, and the checks every answer must pass.

Every example is counted in the suite's tally (`hostile`); a server error or a
refusal that changed something is counted as a violation before the test fails.
Raise the number of examples with ROSTER_HOSTILE_SCALE (a multiplier, default 1).
"""

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, Table, func, select

from roster.adapters import tables as t
from roster.adapters.database import make_engine
from roster.adapters.migrator import upgrade
from roster.bootstrap import Container
from roster.config import Settings, get_settings
from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import Role, Status
from roster.entrypoints.cli import common
from roster.entrypoints.web.app import create_app
from tests import tally
from tests.conftest import Tenant, _migrated, new_tenant
from tests.e2e.conftest import add_user, token_for

SCALE = max(1, int(os.environ.get("ROSTER_HOSTILE_SCALE", "1")))
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def hostile(examples: int) -> settings:
    """A fixed seed (derandomize), no example database, no deadline: the same inputs
    on every run and machine, `examples` times ROSTER_HOSTILE_SCALE of them."""
    return settings(
        max_examples=examples * SCALE,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


def migrated_container(url: str) -> Container:
    if url not in _migrated:
        _migrated[url] = make_engine(url)
        upgrade(_migrated[url])
    return Container(settings=Settings(database_url=url), engine=_migrated[url])


@dataclass
class World:
    """One workspace with users of each status, tokens of each kind and a client."""

    container: Container
    tenant: Tenant
    client: TestClient
    personal: dict[str, str]
    scim: dict[str, str]
    service: dict[str, str]
    active: str
    inactive: str
    blocked: str
    admin: str

    @property
    def engine(self) -> Engine:
        return self.container.engine


def make_world(container: Container) -> Iterator[World]:
    tenant = new_tenant(container)
    ids = {
        s: add_user(container, tenant, f"{s.value}@h.example", status=s)
        for s in (Status.ACTIVE, Status.INACTIVE, Status.BLOCKED)
    }
    admin = add_user(container, tenant, "root@h.example", role=Role.ADMIN)
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield World(
            container,
            tenant,
            client,
            personal=token_for(container, tenant, CredentialKind.PERSONAL),
            scim=token_for(container, tenant, CredentialKind.SCIM),
            service=token_for(container, tenant, CredentialKind.SERVICE),
            active=ids[Status.ACTIVE],
            inactive=ids[Status.INACTIVE],
            blocked=ids[Status.BLOCKED],
            admin=admin,
        )


# Everything a refused request must leave as it was. Columns that merely record that
# a credential was used are left out: using one is not a change a refusal undoes.
_WATCHED: list[tuple[Table, tuple[str, ...]]] = [
    (t.workspaces, ()),
    (t.user_counts, ()),
    (t.users, ("last_seen_at",)),
    (t.audit_events, ()),
    (t.invitations, ()),
    (t.outbox, ()),
    (t.bulk_jobs, ()),
    (t.scim_attributes, ()),
    (t.scim_groups, ()),
    (t.scim_group_members, ()),
    (t.automation_rules, ()),
    (t.automation_runs, ()),
    (t.webhook_endpoints, ()),
    (t.webhook_messages, ()),
]


def snapshot(world: World) -> dict[str, Any]:
    """A digest of every row the workspace holds, and its row counts, table by table."""
    ws = world.tenant.id
    out: dict[str, Any] = {}
    with world.engine.connect() as conn:
        for table, skipped in _WATCHED:
            key = table.c.id if table is t.workspaces else table.c.workspace_id
            cols = [c for c in table.c if c.name not in skipped]
            rows = sorted(repr(tuple(r)) for r in conn.execute(select(*cols).where(key == ws)))
            out[table.name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
        out["credentials"] = conn.execute(
            select(func.count())
            .select_from(t.credentials)
            .where(t.credentials.c.workspace_id == ws)
        ).scalar_one()
    return out


def violation(message: str) -> NoReturn:
    tally.add(violations=1)
    pytest.fail(message)


def sent(n: int = 1) -> None:
    tally.add(hostile=n)


def no_server_error(r: Any, what: str) -> None:
    if r.status_code >= 500:
        violation(f"{what}: answered {r.status_code}: {r.text[:500]}")


def refused_as_problem(r: Any, what: str, *statuses: int) -> None:
    """A 4xx RFC 9457 problem with a stable code (and one of `statuses` if given)."""
    no_server_error(r, what)
    kind = r.headers.get("content-type", "")
    body = r.json() if kind.startswith("application/problem+json") else None
    if not 400 <= r.status_code < 500 or (statuses and r.status_code not in statuses):
        violation(
            f"{what}: expected a refusal {statuses or '4xx'}, got {r.status_code}: {r.text[:300]}"
        )
    if not isinstance(body, dict) or not body.get("code") or body.get("status") != r.status_code:
        violation(f"{what}: the refusal is not a problem with a code: {kind} {r.text[:300]}")


def refused_as_scim_error(r: Any, what: str) -> None:
    """A 4xx SCIM Error (RFC 7644 §3.12)."""
    no_server_error(r, what)
    body = r.json() if "json" in r.headers.get("content-type", "") else None
    if not 400 <= r.status_code < 500:
        violation(f"{what}: expected a SCIM error, got {r.status_code}: {r.text[:300]}")
    if not isinstance(body, dict):
        violation(f"{what}: not a SCIM Error body: {r.text[:300]}")
    shaped = body.get("schemas") == [SCIM_ERROR] and body.get("status") == str(r.status_code)
    if not shaped or not body.get("detail"):
        violation(f"{what}: not a SCIM Error body: {r.text[:300]}")


AUDITED = {"audit_events", "user_counts"}  # a refusal's audit event, and the chain's head


def unchanged(world: World, before: dict[str, Any], what: str, *, audited: bool = False) -> None:
    """Nothing changed; with `audited`, nothing but the refusal's own audit event (a
    domain refusal such as 409 or 412 is recorded, as PRODUCT §4 asks)."""
    after = snapshot(world)
    changed = sorted(k for k in before if before[k] != after[k])
    if audited:
        changed = [k for k in changed if k not in AUDITED]
        grew = after["audit_events"][0] - before["audit_events"][0]
        if grew not in (0, 1):
            violation(f"{what}: a refusal wrote {grew} audit events")
    if changed:
        violation(f"{what}: a refused request changed {', '.join(changed)}")


def cli_world(url: str) -> Iterator[World]:
    """A world whose database the `roster` CLI (run in-process) also uses."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROSTER_DATABASE_URL", url)
        get_settings.cache_clear()
        common.container.cache_clear()
        yield from make_world(migrated_container(url))
        common.container.cache_clear()
        get_settings.cache_clear()
