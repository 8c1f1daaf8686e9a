"""Webhook subscriptions end to end, against a real HTTP receiver the test starts on
loopback (so the app runs as with ROSTER_WEBHOOK_ALLOW_PRIVATE=true), on both
databases. Signatures are checked with the reference `standardwebhooks` package;
retries are driven by the time given to the delivery engine, never by sleeping."""

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import Role, Route, Status
from roster.entrypoints.web.app import create_app
from roster.entrypoints.web.background import run_bulk_jobs
from roster.services import webhooks
from tests.conftest import Tenant, new_tenant
from tests.e2e.conftest import PASSWORD, add_user, token_for
from tests.e2e.webhooks.kit import Receiver, allowing, deliver, receiving


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as state:
        yield state


@pytest.fixture
def dev(container: Container) -> Iterator[tuple[TestClient, Container]]:
    """The app as a developer runs it, private destinations allowed."""
    developer = allowing(container)
    with TestClient(create_app(developer)) as c:
        yield c, developer


@pytest.fixture
def admin(container: Container, tenant: Tenant) -> dict[str, str]:
    return token_for(container, tenant, CredentialKind.PERSONAL)


def _subscribe(client: TestClient, admin: dict[str, str], url: str, events: list[str]) -> Any:
    r = client.post("/api/v1/webhook-endpoints", json={"url": url, "events": events}, headers=admin)
    assert r.status_code == 201, r.text
    return r.json()


def _verified(secret: str, head: dict[str, str], body: bytes) -> Any:
    return Webhook(secret).verify(body, head)


def test_a_block_reaches_the_subscriber_as_a_verified_status_changed_event(
    dev: tuple[TestClient, Container], tenant: Tenant, admin: dict[str, str], receiver: Receiver
) -> None:
    client, container = dev
    endpoint = _subscribe(client, admin, receiver.url, ["user.status_changed"])
    assert endpoint["secret"].startswith("whsec_")
    user_id = add_user(container, tenant, "bo@acme.example")
    r = client.put(
        f"/api/v1/users/{user_id}/status",
        json={"status": "blocked", "reason_code": "payment_dispute"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert deliver(container, container.clock()) == 1
    [(head, body)] = receiver.got
    event = _verified(endpoint["secret"], head, body)
    assert event["type"] == "user.status_changed"
    data = event["data"]
    assert (data["from"], data["to"], data["reason_code"]) == (
        "active",
        "blocked",
        "payment_dispute",
    )
    assert data["route"] == "admin_api"
    assert data["user"]["email"] == "bo@acme.example"
    assert data["request_id"] == r.headers["X-Request-ID"]
    seen = client.get(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries", headers=admin
    ).json()
    [delivery] = seen["items"]
    assert delivery["id"] == head["webhook-id"]
    assert delivery["state"] == "succeeded"
    [attempt] = delivery["attempts"]
    assert (attempt["status_code"], attempt["response"]) == (200, "ok")


def test_a_receiver_failing_twice_gets_three_attempts_with_one_webhook_id(
    dev: tuple[TestClient, Container], tenant: Tenant, admin: dict[str, str], receiver: Receiver
) -> None:
    client, container = dev
    endpoint = _subscribe(client, admin, receiver.url, ["*"])
    receiver.answers = [500, 503]
    queued = client.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/test", headers=admin)
    assert queued.status_code == 202
    now = container.clock()
    assert deliver(container, now) == 0
    assert deliver(container, now + timedelta(seconds=7)) == 0  # the first retry, within 10 s
    assert deliver(container, now + timedelta(seconds=8)) == 0  # not due again yet
    assert deliver(container, now + timedelta(minutes=2)) == 1
    assert deliver(container, now + timedelta(days=2)) == 0  # delivered: never again
    assert len(receiver.got) == 3
    assert len({head["webhook-id"] for head, _ in receiver.got}) == 1
    assert len({body for _, body in receiver.got}) == 1  # the same bytes every time
    assert _verified(endpoint["secret"], *receiver.got[-1])["type"] == "webhook.test"
    succeeded = client.get(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries",
        params={"status": "succeeded"},
        headers=admin,
    ).json()["items"]
    [delivery] = succeeded
    assert delivery["event_type"] == "webhook.test"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
    assert [a["attempt"] for a in delivery["attempts"]] == [1, 2, 3]
    assert delivery["attempts"][-1]["response"] == "ok"


def test_a_replayed_delivery_goes_again_with_its_webhook_id_and_the_same_body(
    dev: tuple[TestClient, Container], tenant: Tenant, admin: dict[str, str], receiver: Receiver
) -> None:
    client, container = dev
    endpoint = _subscribe(client, admin, receiver.url, ["*"])
    delivery_id = client.post(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/test", headers=admin
    ).json()["delivery_id"]
    assert deliver(container, container.clock()) == 1
    r = client.post(f"/api/v1/webhook-deliveries/{delivery_id}/retry", headers=admin)
    assert r.status_code == 202
    assert deliver(container, container.clock()) == 1
    (first, body1), (second, body2) = receiver.got
    assert first["webhook-id"] == second["webhook-id"] == delivery_id
    assert body1 == body2
    assert _verified(endpoint["secret"], second, body2)["type"] == "webhook.test"
    shown = client.get(f"/api/v1/webhook-deliveries/{delivery_id}", headers=admin).json()
    assert len(shown["attempts"]) == 2


def test_a_hanging_receiver_is_cut_at_the_timeout_and_retried_later(
    container: Container, tenant: Tenant, admin: dict[str, str], receiver: Receiver
) -> None:
    quick = allowing(container, webhook_timeout_seconds=0.3)
    receiver.hang = 2.0
    with TestClient(create_app(quick)) as client:
        endpoint = _subscribe(client, admin, receiver.url, ["*"])
        client.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/test", headers=admin)
        assert deliver(quick, quick.clock()) == 0
        [delivery] = client.get(
            f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries", headers=admin
        ).json()["items"]
    assert delivery["state"] == "pending"  # to be retried
    [attempt] = delivery["attempts"]
    assert attempt["status_code"] is None
    assert "timed out" in attempt["error"]


def test_a_deliverer_killed_mid_delivery_loses_nothing(
    dev: tuple[TestClient, Container], tenant: Tenant, admin: dict[str, str], receiver: Receiver
) -> None:
    client, container = dev
    endpoint = _subscribe(client, admin, receiver.url, ["*"])
    client.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/test", headers=admin)
    now = container.clock()
    with container.uow() as uow:  # a deliverer claims it, then dies before sending
        [claimed] = uow.webhooks.claim(now, 10, now + timedelta(minutes=2))
        uow.commit()
    assert deliver(container, now) == 0  # still claimed: nobody sends it twice
    assert deliver(container, now + timedelta(minutes=3)) == 1  # the claim ran out
    [(head, _)] = receiver.got
    assert head["webhook-id"] == claimed.id


@pytest.mark.postgres_only
def test_two_deliverers_on_postgresql_never_send_one_attempt_twice(
    pg_container: Container, receiver: Receiver
) -> None:
    container = allowing(pg_container)
    tenant = new_tenant(container)
    endpoint = webhooks.create_endpoint(
        container.uow(),
        workspace_id=tenant.id,
        url=receiver.url,
        events=["*"],
        description=None,
        now=container.clock(),
        route=Route.CLI,
        actor=Actor(None, "test"),
        allow_private=True,
    )
    ids = [
        webhooks.send_test(container.uow(), tenant.id, endpoint.id, container.clock())
        for _ in range(60)
    ]
    receiver.hang = 0.01
    now = container.clock()
    sent: list[int] = []

    def deliverer() -> None:
        for _ in range(10):
            sent.append(deliver(container, now))

    threads = [threading.Thread(target=deliverer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = Counter(head["webhook-id"] for head, _ in receiver.got)
    assert sorted(got) == sorted(ids)
    assert set(got.values()) == {1}
    assert sum(sent) == 60


def test_endpoints_are_managed_by_owners_and_admins_with_problem_details(
    client: TestClient, container: Container, tenant: Tenant, admin: dict[str, str]
) -> None:
    private = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": "http://10.0.0.7/hook", "events": ["*"]},
        headers=admin,
    )
    assert private.status_code == 422
    assert private.headers["content-type"].startswith("application/problem+json")
    assert "10.0.0.7 is a private address" in private.json()["detail"]
    unknown = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": "https://hooks.example/x", "events": ["user.deleted"]},
        headers=admin,
    )
    assert unknown.status_code == 422
    assert "unknown event type" in unknown.json()["detail"]
    assert client.get("/api/v1/webhook-endpoints", headers=admin).json()["items"] == []
    made = [_subscribe(client, admin, f"https://hooks.example/{i}", ["*"]) for i in range(3)]
    first = client.get("/api/v1/webhook-endpoints", params={"limit": 2}, headers=admin).json()
    assert [e["id"] for e in first["items"]] == [m["id"] for m in made[:2]]
    assert "secret" not in first["items"][0]
    rest = client.get(
        "/api/v1/webhook-endpoints", params={"cursor": first["next_cursor"]}, headers=admin
    ).json()
    assert ([e["id"] for e in rest["items"]], rest["next_cursor"]) == ([made[2]["id"]], None)
    path = f"/api/v1/webhook-endpoints/{made[0]['id']}"
    changed = client.patch(
        path, json={"enabled": False, "events": ["user.created"]}, headers=admin
    ).json()
    assert (changed["enabled"], changed["events"]) == (False, ["user.created"])
    rotated = client.post(f"{path}/rotate-secret", headers=admin).json()
    assert rotated["secret"] != made[0]["secret"]
    types = client.get("/api/v1/webhook-event-types", headers=admin).json()["items"]
    assert {"user.status_changed", "user.status_change_refused"} <= {t["type"] for t in types}
    # A member cannot; another workspace's ids answer 404.
    add_user(container, tenant, "mo@acme.example", role=Role.MEMBER)
    signed_in = client.post(
        "/api/v1/auth/sessions",
        json={"workspace": tenant.workspace.slug, "email": "mo@acme.example", "password": PASSWORD},
    )
    member = {"Authorization": f"Bearer {signed_in.json()['token']}"}
    assert client.get("/api/v1/webhook-endpoints", headers=member).status_code == 403
    service = token_for(container, tenant, CredentialKind.SERVICE)
    assert client.get("/api/v1/webhook-endpoints", headers=service).status_code == 403
    other = new_tenant(container)
    theirs = token_for(container, other, CredentialKind.PERSONAL)
    assert client.get(path, headers=theirs).status_code == 404
    assert client.delete(path, headers=theirs).status_code == 404
    assert client.get(f"{path}/deliveries", headers=theirs).status_code == 404
    assert client.delete(path, headers=admin).status_code == 204
    assert client.get(path, headers=admin).status_code == 404


def test_a_bulk_action_tells_each_change_each_refusal_its_end_and_the_new_count(
    dev: tuple[TestClient, Container], tenant: Tenant, admin: dict[str, str], receiver: Receiver
) -> None:
    client, container = dev
    endpoint = _subscribe(client, admin, receiver.url, ["*"])
    ann = add_user(container, tenant, "ann@x.example")
    bea = add_user(container, tenant, "bea@x.example", status=Status.BLOCKED)
    r = client.post(
        "/api/v1/bulk-actions", json={"status": "inactive", "user_ids": [ann, bea]}, headers=admin
    )
    assert r.status_code == 202, r.text
    run_bulk_jobs(container)
    while deliver(container, container.clock()):
        pass
    events = [_verified(endpoint["secret"], head, body) for head, body in receiver.got]
    by_type = {e["type"]: e["data"] for e in events}
    assert by_type["user.created"]["user"]["email"] in {"ann@x.example", "bea@x.example"}
    assert by_type["user.status_changed"]["user"]["id"] == ann
    assert by_type["user.status_changed"]["route"] == "bulk"
    refused = by_type["user.status_change_refused"]
    assert (refused["user"]["id"], refused["code"], refused["route"]) == (
        bea,
        "user_blocked",
        "bulk",
    )
    done = by_type["bulk_action.completed"]
    assert (done["id"], done["applied"], done["refused"]) == (
        r.json()["id"],
        1,
        {"user_blocked": 1},
    )
    assert by_type["billing.active_users_changed"] == {"active_users": 1}  # the owner alone
    renamed = client.patch(f"/api/v1/users/{ann}", json={"name": "Ann B"}, headers=admin)
    assert renamed.status_code == 200
    deliver(container, container.clock() + timedelta(minutes=1))
    updated = _verified(endpoint["secret"], *receiver.got[-1])
    assert updated["type"] == "user.updated"
    assert updated["data"]["changes"] == {"name": ["Ann", "Ann B"]}


def test_an_automation_run_tells_its_end_and_the_refusal_it_met_on_a_blocked_user(
    dev: tuple[TestClient, Container], tenant: Tenant, admin: dict[str, str], receiver: Receiver
) -> None:
    client, container = dev
    blocked = add_user(container, tenant, "debtor@x.example", status=Status.BLOCKED)
    rule = client.post(
        "/api/v1/automations",
        json={
            "name": "Reactivate on payment",
            "trigger": {"type": "event", "event": "payment.succeeded"},
            "action": {"type": "set_status", "status": "active", "note": "Paid"},
        },
        headers=admin,
    ).json()
    endpoint = _subscribe(
        client, admin, receiver.url, ["automation_run.completed", "user.status_change_refused"]
    )
    service = token_for(container, tenant, CredentialKind.SERVICE)
    posted = client.post(
        "/api/v1/events",
        json={"type": "payment.succeeded", "email": "debtor@x.example"},
        headers=service,
    )
    [run] = posted.json()["runs"]
    while deliver(container, container.clock()):
        pass
    by_type = {
        e["type"]: e["data"]
        for e in (_verified(endpoint["secret"], head, body) for head, body in receiver.got)
    }
    refused = by_type["user.status_change_refused"]
    assert (refused["user"]["id"], refused["route"], refused["code"]) == (
        blocked,
        "automation",
        "user_blocked",
    )
    done = by_type["automation_run.completed"]
    assert (done["id"], done["rule_id"], done["state"]) == (run["id"], rule["id"], "succeeded")
    assert (done["matched"], done["refused"]) == (1, 1)
