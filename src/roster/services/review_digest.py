"""The daily review digest: one email a day to each Active owner and admin of a
workspace listing its Blocked users whose review is due or overdue, with a link to
each profile and to the Blocked accounts page. Off with the workspace setting
`review_digest`.

The day is the workspace's calendar day. Each message's key is (day, recipient) in
the workspace's outbox, and queueing skips a key already there: the tick may run
on any number of servers, and again the same day, and still each owner and admin
gets one digest a day. Like every message, it names reasons in plain words and
never carries an admin's note.
"""

from datetime import date, datetime, timedelta
from typing import Any

from roster.domain.vocabulary import ReasonCode
from roster.domain.workspaces import Workspace
from roster.services.mail import Draft, Kind, compose
from roster.services.ports import UnitOfWork
from roster.services.reviews import BlockedUser, blocked_page

LISTED = 100  # users named in one digest; the Blocked accounts page has the rest

REASONS = {
    ReasonCode.PAYMENT_DISPUTE: "a payment dispute",
    ReasonCode.ACCESS_VIOLATION: "a breach of the access rules",
    ReasonCode.UNRESOLVED_ISSUE: "an unresolved issue",
    ReasonCode.NEEDS_REVIEW: "the account needs a review",
    ReasonCode.OTHER: "other",
}


def queue_digests(uow: UnitOfWork, now: datetime, public_url: str) -> int:
    """Queue today's digest in every workspace that sends them and has a review due;
    returns how many messages were new."""
    # Only workspaces with a review possibly due: no time zone's day is past UTC's next.
    with uow.read_only() as reading:
        sending = reading.reviews.digest_workspaces(now.date() + timedelta(days=1))
    return sum(queue_digest(uow, w, now, public_url) for w in sending)


def queue_digest(uow: UnitOfWork, workspace: Workspace, now: datetime, public_url: str) -> int:
    """Queue `workspace`'s digest for its day at `now` to each Active owner and admin
    who has not had it yet, if any review is due; returns how many messages were new."""
    if not workspace.review_digest:
        return 0
    today = workspace.today(now)
    with uow:
        due = blocked_page(uow.reviews, workspace, review="due", today=today, limit=LISTED)
        if not due.items:
            return 0
        drafts = _drafts(uow.reviews.staff(workspace.id), workspace, due.items,
                         more=due.next is not None, today=today, public_url=public_url)  # fmt: skip
        added = uow.mail.add_once(workspace.id, [d.columns() for d in drafts], now)
        uow.commit()
    return added


def _drafts(
    staff: list[tuple[str, str, str]],
    workspace: Workspace,
    due: list[BlockedUser],
    *,
    more: bool,
    today: date,
    public_url: str,
) -> list[Draft]:
    base = public_url.rstrip("/")
    listed = [_item(b, today, base) for b in due]
    n = len(listed)
    subject = (
        f"{n}{'+' if more else ''} Blocked account{'s' if n != 1 or more else ''} "
        f"due for review in {workspace.name}"
    )
    return [
        compose(
            Kind.REVIEW_DIGEST,
            key=f"{today.isoformat()}.{user_id}",
            to=email,
            subject=subject,
            name=name,
            workspace=workspace.name,
            today=today.isoformat(),
            users=listed,
            more=more,
            queue_link=f"{base}/admin/blocked-users",
        )
        for user_id, email, name in staff
    ]


def _item(blocked: BlockedUser, today: date, base: str) -> dict[str, Any]:
    user = blocked.view.user
    reason = REASONS.get(user.status_reason) if user.status_reason else None
    return {
        "name": user.name or user.email,
        "reason": reason or "no reason given",
        "review_by": user.review_by.isoformat() if user.review_by else None,
        "overdue_days": (today - user.review_by).days if user.review_by else None,
        "link": f"{base}/admin/users/{user.id}",
    }
