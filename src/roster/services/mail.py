"""Mail: the messages Roster sends to people (an invitation, a password reset link,
a notice that their account's status changed), and their delivery.

A message is queued in the transaction that causes it, keyed by the event that
caused it (so one event makes one message, and its Message-ID survives a resend
after a crash). What its templates fill in is queued with it, and its plain-text
and HTML parts are rendered when it is sent or shown: a bulk action's thousands of
notices cost a small row each inside the chunk's transaction.
The background worker's `deliver` sends due messages over SMTP; with no SMTP
server configured they stay queued, shown on the dashboard's Emails page.
A message names the workspace and, for a status notice, the reason in plain
words; an admin's note is internal and never leaves in a message. An invitation's
or a reset's link is a credential: its secret stays in the outbox only until the
message is sent (the Emails page shows it until then, as `make run`'s demo needs).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy import Connection

from roster.adapters import mailbox, smtp
from roster.adapters.tokens import without_secrets
from roster.domain.vocabulary import ReasonCode, Status
from roster.domain.workspaces import Workspace
from roster.services.ports import UnitOfWork

MAX_ATTEMPTS = 8
BACKOFF = (30, 120, 600, 1800, 3600, 7200, 21600)  # seconds after attempt 1, 2, …
LEASE = timedelta(minutes=5)  # longer than a batch's sends can take
BATCH = 200  # messages per claim, sent over one connection


class Kind(StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a message kind, not a secret
    STATUS_NOTICE = "status_notice"
    REVIEW_DIGEST = "review_digest"  # to owners and admins: the Blocked users due for review
    WEBHOOK_DISABLED = "webhook_disabled"  # to owners: an endpoint failed for three days


CARRY_LINKS = frozenset({Kind.INVITATION, Kind.PASSWORD_RESET})  # links that are credentials

REASONS = {
    ReasonCode.PAYMENT_DISPUTE: "a payment dispute",
    ReasonCode.ACCESS_VIOLATION: "a breach of the access rules",
    ReasonCode.UNRESOLVED_ISSUE: "an unresolved issue with your account",
    ReasonCode.NEEDS_REVIEW: "your account needs a review",
}

_templates = Environment(
    loader=PackageLoader("roster.services", "mail_templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class Draft:
    """A message ready to queue: the columns of an `emails` row."""

    message_key: str
    kind: str
    to_address: str
    subject: str
    context: dict[str, Any]

    def columns(self) -> dict[str, Any]:
        """The row's columns (not `asdict`, which deep-copies every context)."""
        return {
            "message_key": self.message_key,
            "kind": self.kind,
            "to_address": self.to_address,
            "subject": self.subject,
            "context": self.context,
        }


def compose(kind: Kind, *, key: str, to: str, subject: str, **context: Any) -> Draft:
    """A message of `kind` to `to`; `context` fills its templates (and names the
    workspace). `key` names the event that causes it."""
    return Draft(f"{kind}.{key}", kind, to, subject, context)


def render(kind: str, subject: str, context: dict[str, Any]) -> tuple[str, str]:
    """The plain-text and HTML parts of a message."""
    text = _templates.get_template(f"{kind}.txt").render(subject=subject, **context)
    html = _templates.get_template(f"{kind}.html").render(subject=subject, **context)
    return text, html


def queue(uow: UnitOfWork, workspace_id: str, drafts: Sequence[Draft], now: datetime) -> None:
    """Add `drafts` to the outbox inside the caller's unit of work."""
    uow.mail.add(workspace_id, [d.columns() for d in drafts], now)


@dataclass(frozen=True, slots=True)
class StatusNotice:
    """One applied status change to tell its user about (`event_id`: its audit entry)."""

    user_id: str
    to: Status
    reason_code: ReasonCode | None
    event_id: str


def notify_status_changes(
    uow: UnitOfWork, workspace: Workspace, changes: Sequence[StatusNotice], now: datetime
) -> None:
    """Queue a notice to each user whose status changed, where the workspace sends them."""
    if not changes or not workspace.notify_users_on_status_change:
        return
    contacts = uow.mail.contacts(workspace.id, [c.user_id for c in changes])
    drafts = [_notice(workspace, c, *contacts[c.user_id]) for c in changes if c.user_id in contacts]
    queue(uow, workspace.id, drafts, now)


def _notice(workspace: Workspace, change: StatusNotice, email: str, name: str) -> Draft:
    subject = (
        f"Your {workspace.name} account is active again"
        if change.to == Status.ACTIVE
        else f"Your {workspace.name} account has been "
        + ("deactivated" if change.to == Status.INACTIVE else "blocked")
    )
    return compose(
        Kind.STATUS_NOTICE,
        key=change.event_id,
        to=email,
        subject=subject,
        name=name,
        workspace=workspace.name,
        status=change.to.value,
        reason=REASONS.get(change.reason_code) if change.reason_code else None,
    )


def deliver(
    uow: UnitOfWork,
    now: datetime,
    *,
    smtp_url: str | None,
    mail_from: str,
    send: smtp.Sender = smtp.send_all,
    limit: int = BATCH,
) -> int:
    """Send up to `limit` due messages over one connection; returns how many went.
    Without `smtp_url` nothing is sent: the messages stay queued, on the Emails page."""
    if not smtp_url:
        return 0
    server = smtp.SmtpServer.parse(smtp_url)
    with uow:
        rows = uow.mail.claim_due(now, LEASE, limit)
        uow.commit()
    if not rows:
        return 0
    results = send(server, [_message(r, mail_from) for r in rows])  # no transaction open
    with uow:
        uow.mail.record([(r, _outcome(r, s, now)) for r, s in zip(rows, results, strict=True)])
        uow.commit()
    return sum(s.ok for s in results)


def _message(row: Any, mail_from: str) -> Any:
    text, html = render(row.kind, row.subject, row.context)
    return smtp.message(
        key=row.message_key,
        sender=mail_from,
        to=row.to_address,
        subject=row.subject,
        text=text,
        html=html,
    )


def _outcome(row: Any, sent: smtp.Sent, now: datetime) -> dict[str, Any]:
    attempt = row.attempts + 1
    if sent.ok and row.kind in CARRY_LINKS:
        # The link is a credential: kept in the clear only until it has left.
        context = {k: without_secrets(v) if isinstance(v, str) else v
                   for k, v in row.context.items()}  # fmt: skip
        return {"status": mailbox.SENT, "sent_at": now, "next_attempt_at": None,
                "context": context}  # fmt: skip
    if sent.ok:
        return {"status": mailbox.SENT, "sent_at": now, "next_attempt_at": None}
    if sent.temporary and attempt < MAX_ATTEMPTS:
        wait = timedelta(seconds=BACKOFF[min(attempt, len(BACKOFF)) - 1])
        return {"next_attempt_at": now + wait, "last_error": sent.reply}
    return {"status": mailbox.FAILED, "next_attempt_at": None, "last_error": sent.reply}


@dataclass(frozen=True, slots=True)
class Email:
    """A message as the Emails page and the API show it."""

    id: str
    kind: str
    to_address: str
    subject: str
    text_body: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def list_emails(
    conn: Connection,
    workspace_id: str,
    *,
    status: str | None = None,
    before: str | None = None,
    limit: int = 50,
) -> list[Email]:
    """A workspace's messages, newest first; `before` is the last id of the page before."""
    rows = mailbox.page(conn, workspace_id, status=status, before=before, limit=limit)
    return [_email(r) for r in rows]


def _email(row: Any) -> Email:
    text, _ = render(row.kind, row.subject, row.context)
    fields = {f: getattr(row, f) for f in Email.__slots__ if f != "text_body"}
    return Email(**fields, text_body=text)
