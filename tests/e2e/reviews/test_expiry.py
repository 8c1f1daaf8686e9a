"""Accounts that end on a date, on SQLite and PostgreSQL: the expiry tick (driven
on the test's clock) makes an expired Active user Inactive through route
automation with reason expired; a Blocked user stays Blocked, refused once."""

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.entrypoints.web import background
from tests.conftest import Tenant
from tests.e2e.conftest import add_user
from tests.e2e.reviews.conftest import Clock, block


def _tick(container: Container) -> None:
    """One pass of the background loop's expiry tick, as `roster serve` runs it."""
    [expire] = [tick for name, tick in background.TICKS if name == "expiry"]
    expire(container)


def _user(api: TestClient, admin: dict[str, str], user_id: str) -> dict[str, Any]:
    return dict(api.get(f"/api/v1/users/{user_id}", headers=admin).json())


def _events(api: TestClient, admin: dict[str, str], user_id: str, kind: str = "status") -> Any:
    r = api.get(f"/api/v1/audit-events?user={user_id}&kind={kind}", headers=admin)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def _z(at: datetime) -> str:
    """An instant as the API writes it."""
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _expiring(api: TestClient, admin: dict[str, str], clock: Clock, email: str) -> str:
    ends = _z(clock.now + timedelta(hours=1))
    r = api.post(
        "/api/v1/users",
        json={"email": email, "name": "Contractor", "expires_at": ends},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert r.json()["expires_at"] == ends
    return str(r.json()["id"])


def test_an_expired_active_user_becomes_inactive_within_a_minute(
    api: TestClient, admin: dict[str, str], timed: Container, clock: Clock
) -> None:
    user = _expiring(api, admin, clock, "contractor@x.example")
    clock.advance(minutes=59)
    _tick(timed)
    assert _user(api, admin, user)["status"] == "active"
    clock.advance(minutes=1, seconds=30)
    _tick(timed)
    got = _user(api, admin, user)
    assert (got["status"], got["status_reason"]) == ("inactive", "expired")
    latest = _events(api, admin, user)[0]
    assert (latest["route"], latest["reason_code"], latest["outcome"]) == (
        "automation",
        "expired",
        "applied",
    )
    assert latest["batch_id"]


def test_an_expired_blocked_user_stays_blocked_and_the_refusal_is_recorded_once(
    api: TestClient, admin: dict[str, str], timed: Container, clock: Clock
) -> None:
    user = _expiring(api, admin, clock, "trial@x.example")
    block(api, admin, user, "payment_dispute")
    clock.advance(hours=2)
    _tick(timed)
    _tick(timed)
    assert _user(api, admin, user)["status"] == "blocked"
    refused = [e for e in _events(api, admin, user) if e["outcome"] != "applied"]
    assert [(e["outcome"], e["route"], e["reason_code"]) for e in refused] == [
        ("user_blocked", "automation", "expired")
    ]


def test_reactivating_an_expired_user_clears_the_passed_date_but_keeps_a_new_one(
    api: TestClient, admin: dict[str, str], timed: Container, clock: Clock
) -> None:
    first = _expiring(api, admin, clock, "back@x.example")
    second = _expiring(api, admin, clock, "renewed@x.example")
    clock.advance(hours=2)
    _tick(timed)
    renewal = _z(clock.now + timedelta(days=30))
    r = api.patch(f"/api/v1/users/{second}", json={"expires_at": renewal}, headers=admin)
    assert r.status_code == 200, r.text
    for user in (first, second):
        r = api.put(f"/api/v1/users/{user}/status", json={"status": "active"}, headers=admin)
        assert r.status_code == 200, r.text
    _tick(timed)
    assert _user(api, admin, first)["expires_at"] is None
    assert (_user(api, admin, second)["status"], _user(api, admin, second)["expires_at"]) == (
        "active",
        renewal,
    )


def test_changing_an_expiry_is_audited_and_null_removes_it(
    api: TestClient, admin: dict[str, str], timed: Container, tenant: Tenant, clock: Clock
) -> None:
    user = add_user(timed, tenant, "dated@x.example")
    at = clock.now + timedelta(days=7)
    ends = _z(at)
    assert (
        api.patch(f"/api/v1/users/{user}", json={"expires_at": ends}, headers=admin).json()[
            "expires_at"
        ]
        == ends
    )
    assert (
        api.patch(f"/api/v1/users/{user}", json={"name": "Dated"}, headers=admin).json()[
            "expires_at"
        ]
        == ends
    )
    r = api.patch(f"/api/v1/users/{user}", json={"expires_at": None}, headers=admin)
    assert r.json()["expires_at"] is None
    changes = [e["changes"] for e in _events(api, admin, user, "user.expiry_changed")]
    iso = at.isoformat()
    assert changes == [{"expires_at": [iso, None]}, {"expires_at": [None, iso]}]


def test_billing_counts_an_expiry_like_any_deactivation(
    api: TestClient, admin: dict[str, str], timed: Container, clock: Clock
) -> None:
    user = _expiring(api, admin, clock, "billed@x.example")
    before = _z(clock.now + timedelta(minutes=30))
    clock.advance(hours=2)
    _tick(timed)
    after = _z(clock.now)

    def active_at(at: str) -> int:
        r = api.get("/api/v1/billing/usage", params={"at": at}, headers=admin)
        assert r.status_code == 200, r.text
        return int(r.json()["active"])

    assert active_at(before) - active_at(after) == 1
    assert _user(api, admin, user)["status"] == "inactive"
