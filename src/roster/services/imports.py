"""`roster users import`: a CSV of users, created or moved through route `bulk`.

The file is read twice, as a stream: the first pass checks every row (a bad row is
reported with its line number and nothing is written), the second creates and moves
users in chunks, each chunk one transaction. The header takes `roster users export`'s
columns too, so an export imports as it is.
"""

import csv
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
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

REQUIRED = ("email", "name")
OPTIONAL = ("role", "status", "reason", "note", "expires_at")  # role member, status active
# `roster users export` writes these: its status_reason and status_note are this
# file's reason and note; the rest describe the user and are skipped on the way in.
ALIASES = {"status_reason": "reason", "status_note": "note"}
SKIPPED = (
    "id",
    "status_changed_at",
    "status_changed_by",
    "review_by",
    "last_seen_at",
    "created_at",
    "version",
)
MAX_NAME, MAX_NOTE = 200, 2000  # as the API and User.rename take them
CHUNK = 2000
KEPT_PROBLEMS = 1000  # bad lines kept for the message; the rest are only counted


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
    rows: int = 0
    created: int = 0
    applied: int = 0
    unchanged: int = 0
    refused: int = 0


Refused = Callable[[int, str, str], None]  # line, email, code: told as each row is refused


class BadFile(errors.InvalidInput):
    """The file has bad rows; `problems` lists the first of them as (line, message),
    `total` counts them all."""

    def __init__(self, problems: list[tuple[int, str]], total: int | None = None) -> None:
        self.problems = problems
        self.total = len(problems) if total is None else total
        lines = "; ".join(f"line {n}: {m}" for n, m in problems[:20])
        more = f" (and {self.total - 20} more)" if self.total > 20 else ""
        super().__init__(
            f"The file has {self.total} bad row(s), nothing was imported: {lines}{more}"
        )


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """A file check_file read through without a bad row: what import_file takes."""

    path: Path
    rows: int


def check_file(path: Path) -> CheckedFile:
    """The first pass: every row of the file read and checked, none kept, so memory
    stays flat whatever the size. Returns the file with its row count, or raises BadFile
    naming the bad lines (a malformed value, a row of the wrong width, an email
    twice) before anything is written."""
    problems: list[tuple[int, str]] = []
    total = rows = 0
    seen, maybe_twice = _Seen(path.stat().st_size), set()
    for item in _records(path):
        if isinstance(item, ImportRow):
            rows += 1
            if seen.again(item.email):
                maybe_twice.add(item.email)
            continue
        total += 1
        if len(problems) < KEPT_PROBLEMS:
            problems.append(item)
    if maybe_twice:  # the bitmap only says "maybe": a second look at those emails
        twice = _twice(path, maybe_twice)
        total += len(twice)
        problems = sorted(problems + twice[: KEPT_PROBLEMS - len(problems)])
    if total:
        raise BadFile(problems, total)
    return CheckedFile(path, rows)


def read_rows(path: Path) -> Iterator[ImportRow]:
    """The rows of a file check_file accepted, one at a time; BadFile if the file
    changed since and a row no longer reads."""
    for item in _records(path):
        if not isinstance(item, ImportRow):
            raise BadFile([item])
        yield item


class _Seen:
    """Which emails came before, in a bitmap of fixed size (two bits per email, as a
    Bloom filter): "no" is certain, "yes" may be a collision and is checked again."""

    def __init__(self, file_bytes: int) -> None:
        self.size = max(1 << 16, min(1 << 27, 1 << (file_bytes * 4).bit_length()))
        self.bits = bytearray(self.size // 8)

    def again(self, email: str) -> bool:
        h = hash(email) & ((1 << 64) - 1)
        found = True
        for bit in (h % self.size, (h >> 32) % self.size):
            byte, mask = bit >> 3, 1 << (bit & 7)
            found = found and bool(self.bits[byte] & mask)
            self.bits[byte] |= mask
        return found


def _twice(path: Path, emails: set[str]) -> list[tuple[int, str]]:
    first: dict[str, int] = {}
    problems = []
    for item in _records(path):
        if isinstance(item, ImportRow) and item.email in emails:
            if item.email in first:
                problems.append((item.line, f"{item.email} appears twice in the file"))
            first.setdefault(item.email, item.line)
    return problems


def _records(path: Path) -> Iterator[ImportRow | tuple[int, str]]:
    """Each row of the file as an ImportRow, or (line, what is wrong with it)."""
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        try:
            header = _header(reader.fieldnames or [])
        except csv.Error as broken:
            yield (1, f"the header cannot be read: {broken}")
            return
        except UnicodeDecodeError:
            yield (1, "the file is not UTF-8 text")
            return
        if isinstance(header, tuple):
            yield header
            return
        reader.fieldnames = header
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as broken:  # a field over csv's size limit, a bad quote
                yield (reader.reader.line_num, f"the row cannot be read: {broken}")
                return
            except UnicodeDecodeError:
                yield (reader.reader.line_num + 1, "the file is not UTF-8 text from here")
                return
            try:
                yield _row(reader.line_num, record)
            except (errors.InvalidInput, ValueError) as bad:
                why = bad.detail if isinstance(bad, errors.DomainError) else str(bad)
                yield (reader.line_num, why)


def _header(raw: Sequence[str]) -> list[str] | tuple[int, str]:
    """The header's names as the rows are read by (export's names taken as ours,
    the columns to skip named `-`), or (1, what is wrong with it)."""
    header = [ALIASES.get(h.strip().lower(), h.strip().lower()) for h in raw]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return (1, f"the header must name {', '.join(REQUIRED)}; missing {', '.join(missing)}")
    unknown = [c for c in header if c not in (*REQUIRED, *OPTIONAL, *SKIPPED)]
    twice = sorted({c for c in header if header.count(c) > 1})
    if unknown or twice:
        what = [f"unknown column(s) {', '.join(map(repr, unknown))}"] if unknown else []
        what += [f"{', '.join(twice)} named twice"] if twice else []
        columns = ", ".join((*REQUIRED, *OPTIONAL))
        return (1, f"the header may only name {columns} (and export's columns): {'; '.join(what)}")
    return [c if c not in SKIPPED else "-" for c in header]


def _row(line: int, record: dict[str, str | None]) -> ImportRow:
    if None in record:
        raise ValueError("the row has more fields than the header")
    if any(v is None for v in record.values()):
        raise ValueError("the row has fewer fields than the header")
    value = {k: (v or "").strip() for k, v in record.items()}
    email = normalize_email(value["email"])
    return ImportRow(
        line=line,
        email=email,
        name=_text(value["name"], "name", MAX_NAME) or email.split("@")[0],
        role=_enum(Role, value.get("role") or "member", "role"),
        status=_enum(Status, value.get("status") or "active", "status"),
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


def import_file(
    uow_factory: Callable[[], UnitOfWork],
    *,
    workspace_id: str,
    file: CheckedFile,
    actor: Actor,
    now: datetime,
    refused: Refused = lambda *_: None,
    progress: Callable[[int], None] = lambda _: None,
) -> ImportReport:
    """Read a file check_file accepted a second time, creating the new users and
    moving existing ones through route bulk, CHUNK rows per transaction.

    Two streaming passes rather than one transaction: bad input anywhere still
    changes nothing, memory holds one chunk, and each chunk commits as a bulk job's
    chunk does. Each refused row is told to `refused` and audited.

    The first chunk also refreshes the planner's statistics: on a fresh PostgreSQL
    database the tables have none yet, and every later chunk's lookups would be
    planned as for an empty table (a scan of all the rows so far: quadratic time).
    The lookup by email is an index probe per address by construction (see
    adapters/users_repo.py); the statistics also serve the inserts' key checks."""
    report = ImportReport(batch_id=new_id("bat"))
    for chunk in _chunks(read_rows(file.path)):
        with uow_factory() as uow:
            _import_chunk(uow, workspace_id, chunk, actor, now, report, refused)
            if not report.rows:  # the first chunk: see above
                uow.refresh_statistics()
            uow.commit()
        report.rows += len(chunk)
        progress(len(chunk))
    return report


def _import_chunk(
    uow: UnitOfWork,
    workspace_id: str,
    chunk: list[ImportRow],
    actor: Actor,
    now: datetime,
    report: ImportReport,
    refused: Refused,
) -> None:
    """One chunk in the caller's transaction: new users added, existing ones moved."""
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
        refused=lambda i, e: _refuse(report, refused, fresh[i], e.code),
    )
    report.created += len(created)
    for r in chunk:  # an existing user's new expiry, audited as any other change of it
        if r.expires_at is not None and r.email in existing:
            change_expiry(
                uow, existing[r.email], r.expires_at, route=Route.BULK, actor=actor, now=now
            )
    frozen = _frozen_rows(uow, existing, chunk, actor, now)
    for r, code in frozen.values():
        _refuse(report, refused, r, code)
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
            _refuse(report, refused, by_id[o.user_id], o.code or "")
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
) -> dict[int, tuple[ImportRow, str]]:
    """The lines asking a Blocked user for another role: each refused (and audited on
    their history) as an identity change route bulk may not make; nothing of the
    row is applied."""
    frozen = {}
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
            frozen[r.line] = (r, refusal.code)
    return frozen


def _refuse(report: ImportReport, refused: Refused, row: ImportRow, code: str) -> None:
    report.refused += 1
    refused(row.line, row.email, code)


def _chunks(rows: Iterator[ImportRow]) -> Iterator[list[ImportRow]]:
    chunk: list[ImportRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
