"""`roster users import`: a CSV of users, created or moved through route `bulk`.

The whole file is checked first: a bad row is reported with its line number and
nothing is written. Then rows go in chunks, each chunk one transaction.
"""

import csv
import io
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from roster.domain import errors
from roster.domain.emails import normalize_email
from roster.domain.filters import instant
from roster.domain.ids import new_id
from roster.domain.users import Actor, User, check_identity_change
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services.expiry import change_expiry
from roster.services.ports import UnitOfWork
from roster.services.status import apply_changes, audit_refusal
from roster.services.users import NewUser, add_users

REQUIRED = ("email", "name", "role", "status")
OPTIONAL = ("reason", "note", "expires_at")
MAX_NAME, MAX_NOTE = 200, 2000  # as the API and User.rename take them
CHUNK = 2000


@dataclass(frozen=True, slots=True)
class ImportRow:
    line: int
    email: str
    name: str
    role: Role
    status: Status
    reason: ReasonCode | None
    note: str | None
    expires_at: datetime | None = None  # when the account ends; None: as it was


@dataclass(slots=True)
class ImportReport:
    batch_id: str
    created: int = 0
    applied: int = 0
    unchanged: int = 0
    refused: list[tuple[int, str, str]] = field(default_factory=list)  # line, email, code


class BadFile(errors.InvalidInput):
    """The file has bad rows; `problems` lists them as (line, message)."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        lines = "; ".join(f"line {n}: {m}" for n, m in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(
            f"The file has {len(problems)} bad row(s), nothing was imported: {lines}{more}"
        )


def parse_csv(text: str) -> list[ImportRow]:
    """Every row of the file, or BadFile naming each bad line."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        header = [h.strip().lower() for h in reader.fieldnames or []]
    except csv.Error as broken:
        raise BadFile([(1, f"the header cannot be read: {broken}")]) from None
    _check_header(header)
    reader.fieldnames = header
    rows, problems, seen = [], [], set()
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as broken:  # a field over csv's size limit, a bad quote
            problems.append((reader.reader.line_num, f"the row cannot be read: {broken}"))
            break
        line = reader.line_num
        try:
            row = _row(line, record)
        except (errors.InvalidInput, ValueError) as bad:
            problems.append((line, bad.detail if isinstance(bad, errors.DomainError) else str(bad)))
            continue
        if row.email in seen:
            problems.append((line, f"{row.email} appears twice in the file"))
        seen.add(row.email)
        rows.append(row)
    if problems:
        raise BadFile(problems)
    return rows


def _check_header(header: list[str]) -> None:
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise BadFile(
            [(1, f"the header must name {', '.join(REQUIRED)}; missing {', '.join(missing)}")]
        )
    unknown = [c for c in header if c not in (*REQUIRED, *OPTIONAL)]
    twice = sorted({c for c in header if header.count(c) > 1})
    if unknown or twice:
        what = [f"unknown column(s) {', '.join(map(repr, unknown))}"] if unknown else []
        what += [f"{', '.join(twice)} named twice"] if twice else []
        columns = ", ".join((*REQUIRED, *OPTIONAL))
        raise BadFile([(1, f"the header may only name {columns}: {'; '.join(what)}")])


def _row(line: int, record: dict[str, str | None]) -> ImportRow:
    if None in record:
        raise ValueError("the row has more fields than the header")
    if any(record.get(c) is None for c in REQUIRED):
        raise ValueError("the row has fewer fields than the header")
    value = {k: (v or "").strip() for k, v in record.items()}
    email = normalize_email(value["email"])
    return ImportRow(
        line=line,
        email=email,
        name=_text(value["name"], "name", MAX_NAME) or email.split("@")[0],
        role=_enum(Role, value["role"] or "member", "role"),
        status=_enum(Status, value["status"] or "active", "status"),
        reason=_enum(ReasonCode, value["reason"], "reason") if value.get("reason") else None,
        note=_text(value.get("note") or "", "note", MAX_NOTE, keep="\n\t") or None,
        expires_at=_instant(value.get("expires_at") or ""),
    )


def _instant(raw: str) -> datetime | None:
    """An `expires_at` cell: a date (midnight UTC) or an ISO 8601 date-time."""
    if not raw:
        return None
    try:
        return instant(raw)
    except ValueError:
        raise errors.InvalidInput(
            f"expires_at {raw[:40]!r} is not a date (YYYY-MM-DD) or an ISO 8601 date-time"
        ) from None


def _text(value: str, what: str, longest: int, keep: str = "") -> str:
    """A name or note as the API would take it: not too long, no control characters."""
    if len(value) > longest:
        raise ValueError(f"the {what} is longer than {longest} characters")
    if any(unicodedata.category(c) == "Cc" and c not in keep for c in value):
        raise ValueError(f"the {what} holds a control character (NUL, CR, LF or the like)")
    return value


E = TypeVar("E", Role, Status, ReasonCode)


def _enum(kind: type[E], raw: str, what: str) -> E:
    try:
        return kind(raw.lower())
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        raise ValueError(f"{raw!r} is not a {what} (use one of: {choices})") from None


def import_rows(
    uow_factory: Callable[[], UnitOfWork],
    *,
    workspace_id: str,
    rows: list[ImportRow],
    actor: Actor,
    now: datetime,
    progress: Callable[[int], None] = lambda _: None,
) -> ImportReport:
    """Create the new users and move existing ones, chunk by chunk, through route bulk."""
    report = ImportReport(batch_id=new_id("bat"))
    for chunk in _chunks(rows):
        with uow_factory() as uow:
            _import_chunk(uow, workspace_id, chunk, actor, now, report)
            uow.commit()
        progress(len(chunk))
    return report


def _import_chunk(
    uow: UnitOfWork,
    workspace_id: str,
    chunk: list[ImportRow],
    actor: Actor,
    now: datetime,
    report: ImportReport,
) -> None:
    existing = uow.users.get_many_by_email(workspace_id, [r.email for r in chunk])
    fresh = [r for r in chunk if r.email not in existing]
    created = add_users(
        uow,
        workspace_id=workspace_id,
        route=Route.BULK,
        actor=actor,
        now=now,
        batch_id=report.batch_id,
        new=[
            NewUser(r.email, r.name, r.role, r.status, r.reason, r.note, expires_at=r.expires_at)
            for r in fresh
        ],
        refused=lambda i, e: report.refused.append((fresh[i].line, fresh[i].email, e.code)),
    )
    report.created += len(created)
    for r in chunk:  # an existing user's new expiry, audited as any other change of it
        if r.expires_at is not None and r.email in existing:
            change_expiry(
                uow, existing[r.email], r.expires_at, route=Route.BULK, actor=actor, now=now
            )
    frozen = _frozen_rows(uow, existing, chunk, actor, now, report)
    by_id = {existing[r.email].id: r for r in chunk if r.email in existing and r.line not in frozen}
    outcomes, _ = apply_changes(
        uow,
        workspace_id=workspace_id,
        targets=[(uid, r.status) for uid, r in by_id.items()],
        route=Route.BULK,
        actor=actor,
        now=now,
        batch_id=report.batch_id,
        notes=lambda uid: (by_id[uid].reason, by_id[uid].note),
    )
    for o in outcomes:
        if o.result == "refused":
            report.refused.append((by_id[o.user_id].line, by_id[o.user_id].email, o.code or ""))
        elif o.result == "applied":
            report.applied += 1
        else:
            report.unchanged += 1


def _frozen_rows(
    uow: UnitOfWork,
    existing: dict[str, User],
    chunk: list[ImportRow],
    actor: Actor,
    now: datetime,
    report: ImportReport,
) -> set[int]:
    """The lines asking a Blocked user for another role: each refused (and audited on
    their history) as an identity change route bulk may not make; nothing of the
    row is applied."""
    frozen = set()
    for r in chunk:
        user = existing.get(r.email)
        if user is None:
            continue
        try:
            check_identity_change(user, ("role",) if r.role != user.role else (), route=Route.BULK)
        except errors.IdentityFrozen as refusal:
            note = f"Line {r.line} of an import asked to change the user's role."
            audit_refusal(
                uow, user, route=Route.BULK, actor=actor, refusal=refusal, note=note, now=now
            )
            report.refused.append((r.line, r.email, refusal.code))
            frozen.add(r.line)
    return frozen


def _chunks(rows: list[ImportRow]) -> Iterator[list[ImportRow]]:
    for i in range(0, len(rows), CHUNK):
        yield rows[i : i + CHUNK]
