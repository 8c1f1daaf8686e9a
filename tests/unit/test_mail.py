"""Mail without a database: the SMTP address, and which status changes tell the user."""

from datetime import UTC, datetime

import pytest

from roster.adapters.smtp import SmtpServer
from roster.domain import errors
from roster.domain.users import Actor, User
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.domain.workspaces import UserCounts, Workspace
from roster.services.mail import render
from roster.services.status import change_status
from tests.fakes import FakeStore, FakeUnitOfWork

NOW = datetime(2026, 12, 1, tzinfo=UTC)
ADMIN = Actor(id="usr_admin", name="Ada Admin", user_id="usr_admin", role=Role.ADMIN)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example:2525", SmtpServer("mail.example", 2525)),
        ("smtp://u:p%40ss@mail.example:587?starttls=true",
         SmtpServer("mail.example", 587, "u", "p@ss", "starttls")),
        ("smtps://u:p@mail.example", SmtpServer("mail.example", 465, "u", "p", "tls")),
        ("smtp://mail.example", SmtpServer("mail.example", 25)),
    ],
)  # fmt: skip
def test_the_smtp_address_reads_host_port_login_and_security(
    url: str, expected: SmtpServer
) -> None:
    assert SmtpServer.parse(url) == expected


def test_an_smtp_address_of_another_scheme_is_refused_in_plain_words() -> None:
    with pytest.raises(ValueError, match="ROSTER_SMTP_URL"):
        SmtpServer.parse("http://mail.example")


def _world(status: Status, notify: bool = True) -> tuple[FakeStore, str]:
    store = FakeStore()
    ws = Workspace(id="ws_1", slug="acme", name="Acme & Co", created_at=NOW,
                   notify_users_on_status_change=notify)  # fmt: skip
    store.workspaces[ws.id] = ws
    store.counts[ws.id] = UserCounts(active=1, active_owners=1).moved(Role.MEMBER, None, status)
    reason = ReasonCode.OTHER if status == Status.BLOCKED else None
    user = User("usr_1", ws.id, "bo@acme.example", "Bo", Role.MEMBER, status, reason)
    store.users[(ws.id, user.id)] = user
    return store, user.id


def _change(
    store: FakeStore,
    user_id: str,
    to: Status,
    reason_code: ReasonCode | None = None,
    note: str | None = None,
) -> None:
    change_status(
        FakeUnitOfWork(store),
        workspace_id="ws_1",
        user_id=user_id,
        to=to,
        route=Route.ADMIN_API,
        actor=ADMIN,
        reason_code=reason_code,
        note=note,
        now=NOW,
    )


def test_a_reactivated_user_is_told_their_account_is_active_again() -> None:
    store, user = _world(Status.INACTIVE)
    _change(store, user, Status.ACTIVE)
    [notice] = store.mail
    assert notice["to_address"] == "bo@acme.example"
    assert notice["subject"] == "Your Acme & Co account is active again"
    text, html = render(notice["kind"], notice["subject"], notice["context"])
    assert "you can sign in" in text
    assert "Acme &amp; Co" in html  # escaped in HTML, plain in text


def test_a_block_tells_the_reason_in_plain_words_and_never_the_note() -> None:
    store, user = _world(Status.ACTIVE)
    _change(store, user, Status.BLOCKED, reason_code=ReasonCode.NEEDS_REVIEW, note="fraud?")
    [notice] = store.mail
    text, html = render(notice["kind"], notice["subject"], notice["context"])
    assert "your account needs a review" in text
    assert "fraud?" not in text + html


def test_no_notice_for_a_no_op_a_refusal_or_where_the_workspace_turned_them_off() -> None:
    store, user = _world(Status.ACTIVE)
    _change(store, user, Status.ACTIVE)
    assert store.mail == []
    store, user = _world(Status.BLOCKED)
    with pytest.raises(errors.UserBlocked):
        change_status(FakeUnitOfWork(store), workspace_id="ws_1", user_id=user,
                      to=Status.ACTIVE, route=Route.BULK, actor=ADMIN, now=NOW)  # fmt: skip
    assert store.mail == []
    store, user = _world(Status.ACTIVE, notify=False)
    _change(store, user, Status.INACTIVE)
    assert store.mail == []
