"""Which users, and which audit events, a request means: one filter type each, used
by the API, the dashboard, bulk actions, exports and automation rules alike.

Bounds on time have one meaning everywhere: a `…_before` bound holds for values
strictly before it, an `…_after` bound for values at or after it. A date given
where a bound is expected means midnight UTC at the start of that day.
"""

from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

from roster.domain.audit import AuditKind
from roster.domain.vocabulary import Role, Route, Status


def instant(value: date | datetime | str) -> datetime:
    """A bound as an aware instant: a date is midnight UTC of that day, and a
    date-time without a zone is UTC (ValueError for text that is neither)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=UTC)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class UserFilter:
    """Users for whom every given part holds (None: any).

    `q` is text in the email or the name, any case. `last_seen_*` compare the last
    sighting, and a user never seen matches neither. `idle_*` compare the last
    sighting or, for a user never seen, their creation (how automation rules count
    dormancy). `never_seen` keeps only users never seen; `created_*` compare creation;
    `expires_*` compare the account's end, and a user with none matches neither.
    """

    status: tuple[Status, ...] | None = None
    role: tuple[Role, ...] | None = None
    q: str | None = None
    email_domain: tuple[str, ...] | None = None
    last_seen_before: datetime | None = None
    last_seen_after: datetime | None = None
    idle_before: datetime | None = None
    idle_after: datetime | None = None
    never_seen: bool = False
    created_before: datetime | None = None
    created_after: datetime | None = None
    expires_before: datetime | None = None
    expires_after: datetime | None = None

    def __and__(self, other: "UserFilter") -> "UserFilter":
        """The users both filters select."""
        if self.q and other.q and self.q != other.q:
            raise ValueError("Two different texts cannot be one filter's q.")
        return UserFilter(
            status=_common(self.status, other.status),
            role=_common(self.role, other.role),
            q=self.q or other.q,
            email_domain=_common(self.email_domain, other.email_domain),
            last_seen_before=_first(self.last_seen_before, other.last_seen_before, min),
            last_seen_after=_first(self.last_seen_after, other.last_seen_after, max),
            idle_before=_first(self.idle_before, other.idle_before, min),
            idle_after=_first(self.idle_after, other.idle_after, max),
            never_seen=self.never_seen or other.never_seen,
            created_before=_first(self.created_before, other.created_before, min),
            created_after=_first(self.created_after, other.created_after, max),
            expires_before=_first(self.expires_before, other.expires_before, min),
            expires_after=_first(self.expires_after, other.expires_after, max),
        )

    def as_json(self) -> dict[str, Any]:
        """The given parts only, as JSON values (a bulk job keeps its filter so)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                out[f.name] = [str(v) for v in value]
            elif isinstance(value, datetime):
                out[f.name] = value.isoformat()
            elif value:
                out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "UserFilter":
        """The filter `as_json` wrote (older jobs kept dates for the last-seen bounds)."""
        parts: dict[str, Any] = {}
        kinds = {"status": Status, "role": Role, "email_domain": str}
        for name, value in data.items():
            if value is None or name not in cls.__dataclass_fields__:
                continue
            if name in kinds:
                parts[name] = tuple(kinds[name](v) for v in value)
            elif name in ("q", "never_seen"):
                parts[name] = value
            else:
                parts[name] = instant(value)
        return replace(cls(), **parts)


T = TypeVar("T")


def _common(a: tuple[T, ...] | None, b: tuple[T, ...] | None) -> tuple[T, ...] | None:
    if a is None or b is None:
        return a if b is None else b
    return tuple(v for v in a if v in b)


def _first(a: datetime | None, b: datetime | None, pick: Any) -> datetime | None:
    if a is None or b is None:
        return a if b is None else b
    chosen: datetime = pick(a, b)
    return chosen


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Audit events for which every given part holds. `outcome` is `applied`,
    `refused` (any refusal), or one refusal code such as `user_blocked`; `since` is
    inclusive and `until` exclusive."""

    user_id: str | None = None
    kind: tuple[AuditKind, ...] = ()
    route: tuple[Route, ...] = ()
    outcome: str | None = None
    actor_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


REFUSED = "refused"
"""The outcome filter meaning any refusal."""
