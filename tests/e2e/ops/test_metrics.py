"""`GET /metrics`: scraped and parsed as Prometheus reads it."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from roster.bootstrap import Container
from roster.config import Settings
from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import Status
from roster.entrypoints.web.app import create_app
from tests.conftest import Tenant
from tests.e2e.conftest import add_user, token_for

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient) -> Samples:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_by_route_template_method_and_status(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    headers = token_for(container, tenant, CredentialKind.SERVICE)
    before = scrape(client)
    for user_id in ("usr_a", "usr_b"):
        assert client.get(f"/api/v1/users/{user_id}", headers=headers).status_code == 404
    assert client.get("/no/such/page").status_code == 404
    after = scrape(client)
    route = {"route": "/api/v1/users/{user_id}", "method": "GET", "status": "404"}
    name = "roster_http_requests_total"
    assert value(after, name, **route) - value(before, name, **route) == 2
    assert value(after, name, route="unmatched", method="GET", status="404") >= 1
    timed = {"route": "/api/v1/users/{user_id}", "method": "GET"}
    assert value(after, "roster_http_request_duration_seconds_count", **timed) >= 2
    assert not any("usr_a" in str(labels) for _, labels in after)


def test_status_changes_and_refusals_on_blocked_users_are_counted_by_route_and_outcome(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    headers = token_for(container, tenant, CredentialKind.PERSONAL)
    member = add_user(container, tenant, "mia@x.example")
    blocked = add_user(container, tenant, "bo@x.example", status=Status.BLOCKED)
    before = scrape(client)
    for user_id, answered in ((member, 200), (blocked, 409)):
        body = {"status": "inactive"}
        put = client.put(f"/api/v1/users/{user_id}/status", json=body, headers=headers)
        assert put.status_code == answered
    after = scrape(client)

    def rose(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert rose("roster_status_changes_total", route="admin_api", outcome="applied") == 1
    assert rose("roster_status_changes_total", route="admin_api", outcome="user_blocked") == 1
    assert rose("roster_blocked_refusals_total", route="admin_api") == 1
    assert value(after, "roster_database_up") == 1


def test_jobs_outbox_and_pool_are_reported(client: TestClient) -> None:
    samples = scrape(client)
    names = {name for name, _ in samples}
    assert {"roster_jobs_waiting", "roster_jobs_oldest_waiting_seconds"} <= names
    assert "roster_db_pool_in_use" in names
    assert value(samples, "roster_jobs_waiting", kind="bulk") >= 0


def test_metrics_need_no_credential_and_leave_the_public_port_when_a_port_is_set(
    container: Container,
) -> None:
    elsewhere = Container(
        settings=Settings(database_url=container.settings.database_url, metrics_port=9464),
        engine=container.engine,
    )
    with TestClient(create_app(elsewhere)) as public:
        assert public.get("/metrics").status_code == 404


@pytest.fixture
def down() -> Iterator[TestClient]:
    from roster.adapters.database import make_engine

    url = "postgresql+psycopg://roster@127.0.0.1:1/roster"
    engine = make_engine(url)
    with TestClient(create_app(Container(Settings(database_url=url), engine))) as c:
        yield c
    engine.dispose()


def test_a_scrape_answers_while_the_database_is_down(down: TestClient) -> None:
    assert value(scrape(down), "roster_database_up") == 0
