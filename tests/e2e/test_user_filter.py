"""One user filter: the users API, a bulk action (its preview and its dry run) and
`roster users export` select the same users for the same filter, on both databases,
with the last-seen bounds exact at the boundary instant and given as a date or as a
date-time alike."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from roster.bootstrap import Container
from roster.config import get_settings
from roster.domain.credentials import CredentialKind
from roster.domain.filters import UserFilter
from roster.domain.users import Actor
from roster.domain.vocabulary import Route, Status
from roster.entrypoints.cli import common
from roster.entrypoints.cli.main import app
from roster.entrypoints.web.background import run_bulk_jobs
from roster.services import bulk
from roster.services.users import NewUser, add_users
from tests.conftest import CLI_ACTOR, Tenant
from tests.e2e.conftest import token_for

BOUNDARY = datetime(2026, 6, 1, tzinfo=UTC)
TICK = timedelta(microseconds=1)
SHAPES = {"date": "2026-06-01", "date-time": "2026-06-01T00:00:00Z"}


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ROSTER_DATABASE_URL", database_url)
    get_settings.cache_clear()
    common.container.cache_clear()
    yield
    common.container().engine.dispose()
    get_settings.cache_clear()
    common.container.cache_clear()


def seed(container: Container, tenant: Tenant) -> dict[str, str]:
    """Users seen a microsecond before the boundary, at it, after it, and never."""
    seen = {"before": BOUNDARY - TICK, "at": BOUNDARY, "after": BOUNDARY + TICK, "never": None}
    with container.uow() as uow:
        made = add_users(
            uow,
            workspace_id=tenant.id,
            new=[NewUser(f"{k}@x.example", k, last_seen_at=at) for k, at in seen.items()],
            route=Route.CLI,
            actor=CLI_ACTOR,
            now=container.clock(),
            batch_id=None,
        )
        uow.commit()
    return {u.name: u.id for u in made}


def by_api(client: TestClient, headers: dict[str, str], query: dict[str, str]) -> set[str]:
    r = client.get("/api/v1/users", params=query | {"limit": "200"}, headers=headers)
    assert r.status_code == 200, r.text
    return {u["id"] for u in r.json()["items"]}


def by_bulk(
    client: TestClient, container: Container, tenant: Tenant, headers: dict[str, str], f: Any
) -> set[str]:
    """The users a dry-run bulk action reports on; its preview must count as many."""
    body = {"status": "inactive", "dry_run": True, "filter": f}
    job = client.post("/api/v1/bulk-actions", json=body, headers=headers).json()
    run_bulk_jobs(container)
    page = client.get(f"/api/v1/bulk-actions/{job['id']}/results", headers=headers).json()
    chosen = {i["user_id"] for i in page["items"]}
    where = UserFilter.from_json(f)
    request = bulk.BulkRequest(Status.INACTIVE, filter=where)
    owner = Actor(id=tenant.owner.id, name="owner", user_id=tenant.owner.id)
    preview = bulk.preview(container.uow(), workspace_id=tenant.id, request=request, actor=owner)
    assert preview.tally.total == len(chosen)  # counted when the owner had been seen
    return chosen


def by_export(tenant: Tenant, query: dict[str, str]) -> set[str]:
    parts = [f"--filter={k}={v}" for k, v in query.items()]
    result = CliRunner().invoke(
        app, ["users", "export", "-w", tenant.workspace.slug, "--format", "json", *parts]
    )
    assert result.exit_code == 0, result.stderr
    return {u["id"] for u in json.loads(result.stdout)}


@pytest.mark.usefixtures("cli")
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ({"last_seen_before": "B"}, {"before"}),
        ({"last_seen_after": "B"}, {"at", "after"}),
        ({"last_seen_after": "B", "last_seen_before": "B"}, set()),
    ],
)
def test_the_api_a_bulk_action_and_the_export_select_the_same_users(
    client: TestClient,
    container: Container,
    tenant: Tenant,
    shape: str,
    bounds: dict[str, str],
    expected: set[str],
) -> None:
    ids = seed(container, tenant)
    headers = token_for(container, tenant, CredentialKind.PERSONAL)
    query = {k: SHAPES[shape] for k in bounds}
    want = {ids[name] for name in expected}
    seeded = set(ids.values())  # the owner, seen as they call the API, is left aside
    assert by_api(client, headers, query) & seeded == want
    assert by_bulk(client, container, tenant, headers, query) & seeded == want
    assert by_export(tenant, query) & seeded == want
