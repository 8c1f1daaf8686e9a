"""The review queue of Blocked users and recording a review, through the API, on
SQLite and PostgreSQL: review dates from the workspace's days per reason, the
due/overdue filters, refused attempts since the block, and nothing unblocking."""

from datetime import timedelta

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.audit import AuditKind
from roster.entrypoints.web import background
from tests.conftest import Tenant
from tests.e2e.conftest import add_user
from tests.e2e.reviews.conftest import Clock, block, queue


def test_blocking_sets_the_review_date_the_workspace_gives_the_reason(
    api: TestClient, admin: dict[str, str], timed: Container, tenant: Tenant, clock: Clock
) -> None:
    dispute = add_user(timed, tenant, "dispute@x.example")
    review = add_user(timed, tenant, "review@x.example")
    assert block(api, admin, dispute, "payment_dispute")["review_by"] == str(
        clock.today + timedelta(days=14)
    )
    r = api.patch("/api/v1/workspace", json={"review_days": {"needs_review": 3}}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["review_days"]["needs_review"] == 3
    assert block(api, admin, review, "needs_review")["review_by"] == str(
        clock.today + timedelta(days=3)
    )


def test_changing_the_review_days_is_audited_like_any_setting(
    api: TestClient, admin: dict[str, str], timed: Container, tenant: Tenant
) -> None:
    api.patch("/api/v1/workspace", json={"review_days": {"other": 60}}, headers=admin)
    r = api.get("/api/v1/audit-events?kind=workspace.settings_changed", headers=admin)
    assert r.status_code == 200, r.text
    [event] = r.json()["items"]
    assert event["changes"] == {"review_days.other": [30, 60]}


def test_an_admin_may_give_another_review_date_when_blocking_but_not_a_past_one(
    api: TestClient, admin: dict[str, str], timed: Container, tenant: Tenant, clock: Clock
) -> None:
    user = add_user(timed, tenant, "given@x.example")
    later = clock.today + timedelta(days=40)
    assert block(api, admin, user, "other", review_by=str(later))["review_by"] == str(later)
    other = add_user(timed, tenant, "past@x.example")
    r = api.put(
        f"/api/v1/users/{other}/status",
        json={"status": "blocked", "reason_code": "other", "review_by": "2020-01-01"},
        headers=admin,
    )
    assert r.status_code == 422
    assert api.get(f"/api/v1/users/{other}", headers=admin).json()["status"] == "active"


def test_the_queue_filters_due_and_overdue_and_sorts_most_overdue_first(
    api: TestClient, admin: dict[str, str], timed: Container, tenant: Tenant, clock: Clock
) -> None:
    week = add_user(timed, tenant, "week@x.example")
    month = add_user(timed, tenant, "month@x.example")
    fortnight = add_user(timed, tenant, "fortnight@x.example")
    block(api, admin, week, "needs_review")  # review in 7 days
    block(api, admin, month, "other")  # 30 days
    block(api, admin, fortnight, "payment_dispute")  # 14 days
    assert [i["user"]["id"] for i in queue(api, admin)] == [week, fortnight, month]
    assert queue(api, admin, "?review=due") == []
    clock.advance(days=7)
    [due] = queue(api, admin, "?review=due")
    assert (due["user"]["id"], due["review"]) == (week, "due")
    assert queue(api, admin, "?review=overdue") == []
    clock.advance(days=8)
    assert [i["user"]["id"] for i in queue(api, admin, "?review=overdue")] == [week, fortnight]
    assert [i["review"] for i in queue(api, admin, "?review=all")] == [
        "overdue",
        "overdue",
        "later",
    ]


def test_each_queue_item_says_who_blocked_when_why_and_how_often_they_were_refused(
    api: TestClient, admin: dict[str, str], timed: Container, tenant: Tenant, clock: Clock
) -> None:
    user = add_user(timed, tenant, "refused@x.example")
    block(api, admin, user, "access_violation", note="shared credentials")
    for _ in range(3):  # a personal token may not lift a block: refused, audited
        r = api.put(f"/api/v1/users/{user}/status", json={"status": "active"}, headers=admin)
        assert r.status_code == 409
    [item] = queue(api, admin)
    assert item["reason_code"] == "access_violation"
    assert item["note"] == "shared credentials"
    assert item["blocked_at"].startswith(clock.today.isoformat())
    assert item["blocked_by"] == "Olivia Owner"
    assert item["refused_attempts"] == 3


def test_the_queue_pages_with_a_cursor_and_refuses_unknown_parameters(
    api: TestClient, admin: dict[str, str], timed: Container, tenant: Tenant
) -> None:
    ids = [add_user(timed, tenant, f"p{i}@x.example") for i in range(5)]
    for user in ids:
        block(api, admin, user, "other")
    first = api.get("/api/v1/blocked-users?limit=3", headers=admin).json()
    second = api.get(
        f"/api/v1/blocked-users?limit=3&cursor={first['next_cursor']}", headers=admin
    ).json()
    assert [i["user"]["id"] for i in first["items"] + second["items"]] == sorted(ids)
    assert second["next_cursor"] is None
    r = api.get("/api/v1/blocked-users?reveiw=due", headers=admin)
    assert r.status_code == 422
    assert api.get("/api/v1/blocked-users?review=soon", headers=admin).status_code == 422


def test_recording_a_review_moves_the_date_and_is_audited_with_its_note(
    api: TestClient, admin: dict[str, str], timed: Container, tenant: Tenant, clock: Clock
) -> None:
    user = add_user(timed, tenant, "kept@x.example")
    before = block(api, admin, user, "payment_dispute")["review_by"]
    later = str(clock.today + timedelta(days=21))
    r = api.put(
        f"/api/v1/users/{user}/review",
        json={"review_by": later, "note": "dispute still open at the bank"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["review_by"]) == ("blocked", later)
    r = api.get(f"/api/v1/audit-events?kind={AuditKind.REVIEW_RECORDED.value}", headers=admin)
    [event] = r.json()["items"]
    assert event["user_id"] == user
    assert event["changes"] == {"review_by": [before, later]}
    assert event["note"] == "dispute still open at the bank"


def test_a_review_needs_a_note_a_blocked_user_and_a_date_to_come(
    api: TestClient, admin: dict[str, str], timed: Container, tenant: Tenant, clock: Clock
) -> None:
    active = add_user(timed, tenant, "active@x.example")
    blocked = add_user(timed, tenant, "blocked@x.example")
    block(api, admin, blocked, "other")
    later = str(clock.today + timedelta(days=5))

    def review(user: str, body: dict[str, str]) -> int:
        return api.put(f"/api/v1/users/{user}/review", json=body, headers=admin).status_code

    assert review(active, {"review_by": later, "note": "x"}) == 409
    assert review(blocked, {"review_by": later}) == 422
    assert review(blocked, {"review_by": later, "note": "  "}) == 422
    assert review(blocked, {"review_by": "2020-01-01", "note": "x"}) == 422
    r = api.get(f"/api/v1/audit-events?kind={AuditKind.REVIEW_RECORDED.value}", headers=admin)
    assert r.json()["items"] == []


def test_a_passed_review_date_leaves_the_user_blocked(
    api: TestClient, admin: dict[str, str], timed: Container, tenant: Tenant, clock: Clock
) -> None:
    user = add_user(timed, tenant, "stays@x.example")
    block(api, admin, user, "needs_review")
    clock.advance(days=60)
    for _, tick in background.TICKS:
        tick(timed)
    assert api.get(f"/api/v1/users/{user}", headers=admin).json()["status"] == "blocked"
    [item] = queue(api, admin, "?review=overdue")
    assert item["user"]["id"] == user
