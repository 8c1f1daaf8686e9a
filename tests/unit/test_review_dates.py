"""Review dates of Blocked users, on in-memory fakes: the default per reason, the
admin's own date, what clears it, and recording a review."""

from datetime import UTC, date, datetime, timedelta

import pytest

from roster.domain import errors
from roster.domain.reviews import check_review_date, default_review_date, local_date
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Route, Status
from roster.services.reviews import record_review
from roster.services.status import apply_changes, change_status
from roster.services.users import NewUser, add_users
from roster.services.workspaces import create_workspace
from tests.fakes import FakeStore, FakeUnitOfWork

NOW = datetime(2026, 5, 4, 23, 30, tzinfo=UTC)
TODAY = NOW.date()
CLI = Actor(id=None, name="cli:test")


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork(FakeStore())


def _workspace(uow: FakeUnitOfWork) -> tuple[str, list[str]]:
    ws, _ = create_workspace(
        uow, slug="acme", name=None, route=Route.CLI, actor=CLI, now=NOW,
        owner=NewUser("o@x.example", "O"),
    )  # fmt: skip
    with uow:
        users = add_users(
            uow, workspace_id=ws.id, route=Route.CLI, actor=CLI, now=NOW, batch_id=None,
            new=[NewUser(f"u{i}@x.example", f"U{i}") for i in range(3)],
        )  # fmt: skip
        uow.commit()
    return ws.id, [u.id for u in users]


def _block(uow: FakeUnitOfWork, ws: str, user: str, **more: object) -> date | None:
    result = change_status(
        uow, workspace_id=ws, user_id=user, to=Status.BLOCKED, route=Route.CLI, actor=CLI,
        reason_code=ReasonCode.PAYMENT_DISPUTE, now=NOW, **more,  # type: ignore[arg-type]
    )  # fmt: skip
    return result.user.review_by


@pytest.mark.parametrize(
    ("reason", "days"),
    [
        (ReasonCode.PAYMENT_DISPUTE, 14),
        (ReasonCode.ACCESS_VIOLATION, 30),
        (ReasonCode.UNRESOLVED_ISSUE, 14),
        (ReasonCode.NEEDS_REVIEW, 7),
        (ReasonCode.OTHER, 30),
        (ReasonCode.EXPIRED, 30),
    ],
)
def test_each_reason_has_its_default_review_days(reason: ReasonCode, days: int) -> None:
    assert default_review_date(reason, TODAY, None) == TODAY + timedelta(days=days)


def test_a_workspace_setting_overrides_one_reason_and_keeps_the_others() -> None:
    overrides = {"needs_review": 2}
    assert default_review_date(ReasonCode.NEEDS_REVIEW, TODAY, overrides) == date(2026, 5, 6)
    assert default_review_date(ReasonCode.OTHER, TODAY, overrides) == date(2026, 6, 3)


def test_today_is_the_workspace_time_zone_s_day() -> None:
    assert local_date(NOW, "Europe/Berlin") == date(2026, 5, 5)
    assert local_date(NOW, "Not/AZone") == TODAY


def test_an_admin_s_review_date_is_today_or_later() -> None:
    assert check_review_date(TODAY, TODAY) == TODAY
    with pytest.raises(errors.InvalidInput):
        check_review_date(TODAY - timedelta(days=1), TODAY)


def test_one_user_and_a_batch_get_the_same_default(uow: FakeUnitOfWork) -> None:
    ws, [one, two, _] = _workspace(uow)
    assert _block(uow, ws, one) == TODAY + timedelta(days=14)
    with uow:
        apply_changes(
            uow, workspace_id=ws, targets=[(two, Status.BLOCKED)], route=Route.BULK, actor=CLI,
            reason_code=ReasonCode.PAYMENT_DISPUTE, now=NOW, batch_id="bat_1",
        )  # fmt: skip
        uow.commit()
    assert uow.store.users[(ws, two)].review_by == TODAY + timedelta(days=14)


def test_leaving_blocked_clears_the_review_date(uow: FakeUnitOfWork) -> None:
    ws, [one, _, _] = _workspace(uow)
    _block(uow, ws, one, review_by=TODAY + timedelta(days=3))
    change_status(
        uow, workspace_id=ws, user_id=one, to=Status.ACTIVE, route=Route.CLI, actor=CLI,
        note="settled", now=NOW,
    )  # fmt: skip
    assert uow.store.users[(ws, one)].review_by is None


def test_a_review_date_without_a_block_is_refused(uow: FakeUnitOfWork) -> None:
    ws, [one, _, _] = _workspace(uow)
    with pytest.raises(errors.InvalidInput):
        change_status(
            uow, workspace_id=ws, user_id=one, to=Status.INACTIVE, route=Route.CLI, actor=CLI,
            now=NOW, review_by=TODAY,
        )  # fmt: skip
    assert uow.store.users[(ws, one)].status == Status.ACTIVE


def test_recording_a_review_writes_one_audited_change_and_keeps_the_block(
    uow: FakeUnitOfWork,
) -> None:
    ws, [one, _, _] = _workspace(uow)
    before = _block(uow, ws, one)
    later = TODAY + timedelta(days=40)
    record_review(
        uow, workspace_id=ws, user_id=one, review_by=later, note="still disputed",
        route=Route.CLI, actor=CLI, now=NOW,
    )  # fmt: skip
    user = uow.store.users[(ws, one)]
    assert (user.status, user.review_by) == (Status.BLOCKED, later)
    [entry] = [e for e in uow.store.audit if e.kind == "user.review_recorded"]
    assert entry.changes == {"review_by": [before.isoformat() if before else None, str(later)]}
    assert entry.note == "still disputed"
