"""Webhooks without a database: which changes queue events, and the retry, backoff,
disable and billing rules of the delivery engine, on the in-memory store."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from roster.adapters.webhooks import Attempt
from roster.domain import errors
from roster.domain.users import Actor, User
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.domain.webhooks import RETRY_SCHEDULE, retry_delay
from roster.domain.workspaces import UserCounts, Workspace
from roster.services import webhooks
from roster.services.mail import render
from roster.services.status import change_status
from tests.fakes import FakeStore, FakeUnitOfWork

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
ADMIN = Actor(id="usr_owner", name="Olga Owner", user_id="usr_owner", role=Role.OWNER)


def _world() -> FakeStore:
    store = FakeStore()
    ws = Workspace(id="ws_1", slug="acme", name="Acme", created_at=NOW)
    store.workspaces[ws.id] = ws
    store.counts[ws.id] = UserCounts(active=2, active_owners=1)
    owner = User("usr_owner", ws.id, "olga@acme.example", "Olga", Role.OWNER, Status.ACTIVE)
    bo = User("usr_bo", ws.id, "bo@acme.example", "Bo", Role.MEMBER, Status.ACTIVE)
    store.users |= {(ws.id, owner.id): owner, (ws.id, bo.id): bo}
    return store


def _subscribe(store: FakeStore, events: list[str]) -> str:
    endpoint = webhooks.create_endpoint(
        FakeUnitOfWork(store),
        workspace_id="ws_1",
        url="https://hooks.example/roster",
        events=events,
        description=None,
        now=NOW,
        route=Route.ADMIN_API,
        actor=ADMIN,
    )
    return endpoint.id


def _block(store: FakeStore, user_id: str = "usr_bo") -> None:
    change_status(
        FakeUnitOfWork(store),
        workspace_id="ws_1",
        user_id=user_id,
        to=Status.BLOCKED,
        route=Route.ADMIN_PROFILE,
        actor=ADMIN,
        reason_code=ReasonCode.OTHER,
        now=NOW,
    )


class Receiver:
    """Answers with the codes given, in turn (then 200), and keeps what it got."""

    def __init__(self, *codes: int | None) -> None:
        self.codes = list(codes)
        self.got: list[tuple[str, dict[str, str], bytes]] = []

    def __call__(self, url: str, head: dict[str, str], body: bytes) -> Attempt:
        self.got.append((url, head, body))
        code = self.codes.pop(0) if self.codes else 200
        return Attempt(code, None if code == 200 else "down", 3, "ok")


def _deliver(store: FakeStore, at: datetime, send: Receiver) -> int:
    return webhooks.deliver_due(
        FakeUnitOfWork(store), lambda: at, send=send, timeout=10, jitter=lambda: 0.5
    )


def _count(store: FakeStore, active: int, at: datetime) -> None:
    uow = FakeUnitOfWork(store)
    with uow:
        webhooks.publish(uow, "ws_1", [webhooks.billing_event(active)], at)
        uow.commit()


def _bodies(store: FakeStore) -> list[dict[str, object]]:
    return [json.loads(d["body"]) for _, d in sorted(store.deliveries.items())]


def test_a_block_queues_status_changed_and_the_active_count_with_the_change() -> None:
    store = _world()
    _subscribe(store, ["*"])
    _block(store)
    changed, billing = _bodies(store)
    assert changed["type"] == "user.status_changed"
    data = changed["data"]
    assert isinstance(data, dict)
    assert (data["from"], data["to"], data["route"], data["reason_code"]) == (
        "active", "blocked", "admin_profile", "other"
    )  # fmt: skip
    assert data["user"] == {"id": "usr_bo", "email": "bo@acme.example", "name": "Bo"}
    assert data["actor"] == {"id": "usr_owner", "name": "Olga Owner"}
    assert billing == {**billing, "type": "billing.active_users_changed"}
    assert billing["data"] == {"active_users": 1}


def test_a_refused_change_queues_status_change_refused_even_though_it_raises() -> None:
    store = _world()
    _subscribe(store, ["user.status_change_refused"])
    with pytest.raises(errors.DomainError) as refused:
        change_status(
            FakeUnitOfWork(store),
            workspace_id="ws_1",
            user_id="usr_owner",
            to=Status.INACTIVE,
            route=Route.ADMIN_API,
            actor=ADMIN,
            now=NOW,
        )  # the last owner
    [event] = _bodies(store)
    assert event["type"] == "user.status_change_refused"
    assert event["data"]["code"] == refused.value.code  # type: ignore[index]


def test_nothing_is_queued_for_events_no_endpoint_subscribes_to() -> None:
    store = _world()
    _subscribe(store, ["user.created"])
    _block(store)
    assert store.deliveries == {}


def test_the_billing_count_is_sent_at_most_once_a_minute_and_carries_the_latest() -> None:
    store = _world()
    _subscribe(store, ["billing.active_users_changed"])
    _block(store)
    assert _deliver(store, NOW, Receiver()) == 1
    _count(store, 5, NOW)
    _count(store, 7, NOW + timedelta(seconds=10))
    assert [b["data"] for b in _bodies(store)] == [{"active_users": 1}, {"active_users": 7}]
    assert _deliver(store, NOW + timedelta(seconds=30), Receiver()) == 0  # the minute waits
    assert _deliver(store, NOW + timedelta(seconds=61), Receiver()) == 1


def test_a_failed_delivery_is_retried_on_the_schedule_with_one_webhook_id() -> None:
    store = _world()
    _subscribe(store, ["user.status_changed"])
    _block(store)
    receiver = Receiver(500, None)
    assert _deliver(store, NOW, receiver) == 0
    assert _deliver(store, NOW + timedelta(seconds=4), receiver) == 0  # not due yet
    second = NOW + retry_delay(1, 0.5)
    assert retry_delay(1, 0.0) < timedelta(seconds=10)  # the first retry comes within 10 s
    assert _deliver(store, second, receiver) == 0
    assert _deliver(store, second + retry_delay(2, 0.5), receiver) == 1
    ids = {head["webhook-id"] for _, head, _ in receiver.got}
    assert len(receiver.got) == 3
    assert len(ids) == 1
    assert [a.status_code for _, _, a in store.attempts] == [500, None, 200]
    [delivery] = store.deliveries.values()
    assert delivery["state"] == "succeeded"


def test_the_retry_waits_grow_and_are_jittered_by_a_fifth() -> None:
    waits = [retry_delay(n, 0.5).total_seconds() for n in range(1, 8)]
    assert waits == [*RETRY_SCHEDULE, RETRY_SCHEDULE[-1]]
    assert retry_delay(3, 0.0).total_seconds() == 480
    assert retry_delay(3, 0.999999) < timedelta(seconds=720)


def test_an_endpoint_failing_for_three_days_is_disabled_and_its_owners_emailed() -> None:
    store = _world()
    endpoint_id = _subscribe(store, ["user.status_changed"])
    _block(store)
    at, down = NOW, Receiver(*[503] * 20)
    while store.endpoints[("ws_1", endpoint_id)].enabled:
        _deliver(store, at, down)
        at += timedelta(hours=6)
        assert at < NOW + timedelta(days=5)
    assert len(down.got) < 20
    assert at - NOW >= timedelta(days=3)
    endpoint = store.endpoints[("ws_1", endpoint_id)]
    assert endpoint.disabled_reason == "failed every attempt for 3 days"
    told = [m for m in store.mail if m["kind"] == "webhook_disabled"]
    assert [m["to_address"] for m in told] == ["olga@acme.example"]  # the Active owners
    text, html = render(told[0]["kind"], told[0]["subject"], told[0]["context"])
    assert "https://hooks.example/roster" in text
    assert "has failed every delivery for three days" in html
    [delivery] = store.deliveries.values()
    assert delivery["state"] == "failed"
    # Nothing more goes to a disabled endpoint; enabling it starts the three days again.
    assert _deliver(store, at + timedelta(days=1), down) == 0
    webhooks.update_endpoint(
        FakeUnitOfWork(store), "ws_1", endpoint_id, {"enabled": True}, now=at,
        route=Route.ADMIN_API, actor=ADMIN,
    )  # fmt: skip
    assert store.endpoints[("ws_1", endpoint_id)].failing_since is None


def test_a_success_resets_the_endpoints_failing_clock() -> None:
    store = _world()
    endpoint_id = _subscribe(store, ["user.status_changed"])
    _block(store)
    _deliver(store, NOW, Receiver(500))
    assert store.endpoints[("ws_1", endpoint_id)].failing_since == NOW
    _deliver(store, NOW + timedelta(minutes=1), Receiver())
    assert store.endpoints[("ws_1", endpoint_id)].failing_since is None


def test_a_rotated_secret_signs_beside_the_new_one_for_a_day() -> None:
    store = _world()
    endpoint_id = _subscribe(store, ["user.status_changed"])
    old = store.endpoints[("ws_1", endpoint_id)].secret
    new = webhooks.rotate_secret(
        FakeUnitOfWork(store), "ws_1", endpoint_id, NOW, route=Route.ADMIN_API, actor=ADMIN
    ).secret
    assert new != old
    assert new.startswith("whsec_")
    _block(store)
    receiver = Receiver()
    _deliver(store, NOW + timedelta(hours=23), receiver)
    assert len(receiver.got[0][1]["webhook-signature"].split(" ")) == 2
    webhooks.retry_delivery(FakeUnitOfWork(store), "ws_1", next(iter(store.deliveries))[1],
                            NOW + timedelta(hours=25))  # fmt: skip
    _deliver(store, NOW + timedelta(hours=25), receiver)
    assert len(receiver.got[1][1]["webhook-signature"].split(" ")) == 1


def test_bad_subscriptions_are_refused_in_plain_words() -> None:
    store = _world()
    for events, words in (([], "at least one"), (["user.deleted"], "unknown event type")):
        with pytest.raises(errors.InvalidInput, match=words):
            _subscribe(store, events)
    with pytest.raises(errors.InvalidInput, match="private address"):
        webhooks.create_endpoint(
            FakeUnitOfWork(store), workspace_id="ws_1", url="http://10.1.2.3/x",
            events=["*"], description=None, now=NOW, route=Route.ADMIN_API, actor=ADMIN,
        )  # fmt: skip
    assert store.endpoints == {}


def test_who_pointed_an_endpoint_where_is_audited_without_its_secret() -> None:
    store = _world()
    endpoint_id = _subscribe(store, ["user.status_changed"])
    uow = FakeUnitOfWork(store)
    webhooks.rotate_secret(uow, "ws_1", endpoint_id, NOW, route=Route.ADMIN_API, actor=ADMIN)
    webhooks.delete_endpoint(uow, "ws_1", endpoint_id, now=NOW, route=Route.ADMIN_API, actor=ADMIN)
    made, rotated, deleted = [e for e in store.audit if e.kind == "webhook.changed"]
    assert made.changes is not None
    assert made.changes["url"] == [
        None,
        "https://hooks.example/roster",
    ]
    assert rotated.changes == {"secret": [None, "rotated"]}
    assert deleted.changes is not None
    assert deleted.changes["events"] == [
        ["user.status_changed"],
        None,
    ]
    assert {e.actor_name for e in (made, rotated, deleted)} == {"Olga Owner"}
    assert "whsec_" not in repr(store.audit)
