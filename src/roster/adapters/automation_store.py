"""SQL for automations: rules, runs, per-user outcomes, the audit cursor, and the
users a rule's filter selects.

Every statement names `workspace_id`, except the two pollers that find work across
workspaces (`due_rules`, `stale_runs`, `workspaces_with_events`); what they return
is then handled one workspace at a time.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    and_,
    delete,
    false,
    func,
    insert,
    select,
    true,
    update,
)

from roster.adapters.batch_sql import insert_grouped
from roster.adapters.filter_sql import user_where
from roster.adapters.job_leases import AUTOMATION_RUNS, SqlJobLeases
from roster.adapters.tables import (
    audit_events,
    automation_cursors,
    automation_outcomes,
    automation_rules,
    automation_runs,
    outbox,
    user_counts,
    users,
)
from roster.domain.filters import UserFilter
from roster.domain.jobs import ResultRow
from roster.domain.rules.parse import parse_rule
from roster.domain.rules.runs import AppliedChange, QueuedEvent, Rule, Run, Subject
from roster.domain.vocabulary import Role, Status

STATUS_CHANGED_TOPIC = "user.status_changed"  # read from the audit log instead


def _rule_row(rule: Rule) -> dict[str, Any]:
    d = rule.definition
    return {
        "workspace_id": rule.workspace_id,
        "id": rule.id,
        "name": d.name,
        "enabled": d.enabled,
        "trigger": d.trigger.as_json(),
        "conditions": [c.as_json() for c in d.conditions],
        "action": d.action.as_json(),
        "event": d.trigger.event,
        "owner_user_id": rule.owner_user_id,
        "webhook_secret": rule.webhook_secret,
        "created_by": rule.created_by,
        "created_at": rule.created_at,
        "updated_at": rule.updated_at,
        "next_run_at": rule.next_run_at,
        "disabled_reason": rule.disabled_reason,
    }


def rule_from_row(row: Row[Any]) -> Rule:
    m = row._mapping
    definition = parse_rule(
        {
            "name": m["name"],
            "enabled": m["enabled"],
            "personal": m["owner_user_id"] is not None,
            "trigger": m["trigger"],
            "conditions": m["conditions"],
            "action": m["action"],
        }
    )
    return Rule(
        id=m["id"],
        workspace_id=m["workspace_id"],
        definition=definition,
        created_by=m["created_by"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        next_run_at=m["next_run_at"],
        owner_user_id=m["owner_user_id"],
        webhook_secret=m["webhook_secret"],
        disabled_reason=m["disabled_reason"],
    )


_RUN_FIELDS = Run.__slots__


def run_from_row(row: Row[Any]) -> Run:
    m = row._mapping
    return Run(**{f: m[f] for f in _RUN_FIELDS})


def _statuses(was: Status | None, to: Status | None) -> tuple[tuple[str, Any], ...]:
    return ("from_status", was and was.value), ("to_status", to and to.value)


def _outcome(r: Row[Any]) -> ResultRow:
    m = r._mapping
    return ResultRow(
        user_id=m["user_id"],
        result=m["result"],
        code=m["code"],
        from_status=Status(m["from_status"]) if m["from_status"] else None,
        to_status=Status(m["to_status"]) if m["to_status"] else None,
        email=m.get("email"),
        name=m.get("name"),
    )


_SUBJECT_COLUMNS = [users.c.id, users.c.email, users.c.status, users.c.role]
_STATUSES = {s.value: s for s in Status}
_ROLES = {r.value: r for r in Role}


def _subject_of(r: Row[Any]) -> Subject:
    """By position: a row's attribute access costs more than the rest of building it."""
    user_id, email, status, role = tuple(r)
    return Subject(user_id, email, _STATUSES[status], _ROLES[role])


class SqlAutomations:
    """Automation storage on the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def leases(self) -> SqlJobLeases:
        return SqlJobLeases(self.conn, AUTOMATION_RUNS)

    def insert_rule(self, rule: Rule) -> None:
        self.conn.execute(insert(automation_rules).values(**_rule_row(rule)))

    def save_rule(self, rule: Rule) -> None:
        values = _rule_row(rule)
        for key in ("workspace_id", "id", "created_at", "created_by"):
            values.pop(key)
        r = automation_rules.c
        self.conn.execute(
            update(automation_rules)
            .where(r.workspace_id == rule.workspace_id, r.id == rule.id)
            .values(**values)
        )

    def delete_rule(self, workspace_id: str, rule_id: str) -> bool:
        r = automation_rules.c
        # Outcomes and runs go with their rule (ON DELETE CASCADE); the audit log keeps
        # every change the rule made, under the run's batch id.
        runs = select(automation_runs.c.id).where(
            automation_runs.c.workspace_id == workspace_id, automation_runs.c.rule_id == rule_id
        )
        self.conn.execute(
            delete(automation_outcomes).where(
                automation_outcomes.c.workspace_id == workspace_id,
                automation_outcomes.c.run_id.in_(runs),
            )
        )
        self.conn.execute(
            delete(automation_runs).where(
                automation_runs.c.workspace_id == workspace_id, automation_runs.c.rule_id == rule_id
            )
        )
        gone = self.conn.execute(
            delete(automation_rules).where(r.workspace_id == workspace_id, r.id == rule_id)
        )
        return gone.rowcount == 1

    def get_rule(self, workspace_id: str, rule_id: str) -> Rule | None:
        r = automation_rules.c
        row = self.conn.execute(
            select(automation_rules).where(r.workspace_id == workspace_id, r.id == rule_id)
        ).first()
        return rule_from_row(row) if row else None

    def list_rules(
        self, workspace_id: str, *, after: str | None = None, limit: int | None = None
    ) -> list[Rule]:
        """The rules in id order, above the id `after` (`limit` of them; None: all)."""
        r = automation_rules.c
        query = select(automation_rules).where(r.workspace_id == workspace_id)
        if after is not None:
            query = query.where(r.id > after)
        rows = self.conn.execute(query.order_by(r.id).limit(limit))
        return [rule_from_row(row) for row in rows]

    def event_rules(self, workspace_id: str, events: Iterable[str]) -> list[Rule]:
        r = automation_rules.c
        rows = self.conn.execute(
            select(automation_rules)
            .where(r.workspace_id == workspace_id, r.enabled == true(), r.event.in_(list(events)))
            .order_by(r.id)
        )
        return [rule_from_row(row) for row in rows]

    def due_rules(self, now: datetime, limit: int) -> list[tuple[str, str, datetime]]:
        """Enabled schedule rules whose time has come, across workspaces, oldest first."""
        r = automation_rules.c
        rows = self.conn.execute(
            select(r.workspace_id, r.id, r.next_run_at)
            .where(r.next_run_at <= now, r.enabled == true())
            .order_by(r.next_run_at)
            .limit(limit)
        )
        return [(row[0], row[1], row[2]) for row in rows]

    def claim_due(
        self, workspace_id: str, rule_id: str, seen: datetime, next_at: datetime | None
    ) -> bool:
        """Move a due rule's next_run_at on, only if nobody did since we read it: of
        several processes that saw the rule due, exactly one wins this update."""
        r = automation_rules.c
        won = self.conn.execute(
            update(automation_rules)
            .where(
                r.workspace_id == workspace_id,
                r.id == rule_id,
                r.next_run_at == seen,
                r.enabled == true(),
            )
            .values(next_run_at=next_at)
        )
        return won.rowcount == 1

    def insert_run(self, run: Run) -> None:
        self.conn.execute(
            insert(automation_runs).values(**{f: getattr(run, f) for f in _RUN_FIELDS})
        )

    def get_run(self, workspace_id: str, run_id: str) -> Run | None:
        c = automation_runs.c
        row = self.conn.execute(
            select(automation_runs).where(c.workspace_id == workspace_id, c.id == run_id)
        ).first()
        return run_from_row(row) if row else None

    def list_runs(
        self, workspace_id: str, rule_id: str, *, limit: int, before: str | None = None
    ) -> list[Run]:
        c = automation_runs.c
        query = select(automation_runs).where(c.workspace_id == workspace_id, c.rule_id == rule_id)
        if before:
            query = query.where(c.id < before)
        rows = self.conn.execute(query.order_by(c.id.desc()).limit(limit))
        return [run_from_row(r) for r in rows]

    def add_counts(self, run: Run, counts: dict[str, int]) -> None:
        """Add a chunk's counts (matched, applied, unchanged, refused, active_delta)."""
        c = automation_runs.c
        self.conn.execute(
            update(automation_runs)
            .where(c.workspace_id == run.workspace_id, c.id == run.id)
            .values({name: c[name] + n for name, n in counts.items()})
        )

    def end_run(self, run: Run, state: str, reason: str | None, now: datetime) -> None:
        c = automation_runs.c
        self.conn.execute(
            update(automation_runs)
            .where(c.workspace_id == run.workspace_id, c.id == run.id)
            .values(state=state, reason=reason and reason[:2000], finished_at=now)
        )

    def run_depth(self, workspace_id: str, run_id: str | None) -> int | None:
        if not run_id:
            return None
        c = automation_runs.c
        depth: int | None = self.conn.execute(
            select(c.depth).where(c.workspace_id == workspace_id, c.id == run_id)
        ).scalar()
        return depth

    def insert_outcomes(
        self,
        workspace_id: str,
        run_id: str,
        outcomes: Sequence[tuple[str, str, str | None, Status | None]],
        to: Status | None,
    ) -> None:
        """A chunk's outcome rows (services/status.Outcome: user id, result, code, the
        status before), `to` the status the rule sets (None: a webhook, which leaves
        each user's as it was)."""
        insert_grouped(
            self.conn,
            automation_outcomes,
            "user_id",
            (
                (user_id, (("result", result), ("code", code), *_statuses(was, to or was)))
                for user_id, result, code, was in outcomes
            ),
            {"workspace_id": workspace_id, "run_id": run_id},
        )

    def list_outcomes(
        self, workspace_id: str, run_id: str, *, after: str | None, limit: int
    ) -> list[ResultRow]:
        """Outcomes in user id order, each with the user's email and name."""
        o = automation_outcomes.c
        query = (
            select(automation_outcomes, users.c.email, users.c.name)
            .join(users, and_(users.c.workspace_id == o.workspace_id, users.c.id == o.user_id))
            .where(o.workspace_id == workspace_id, o.run_id == run_id)
        )
        if after:
            query = query.where(o.user_id > after)
        rows = self.conn.execute(query.order_by(o.user_id).limit(limit))
        return [_outcome(r) for r in rows]

    def refused_by_code(self, workspace_id: str, run_id: str) -> dict[str, int]:
        o = automation_outcomes.c
        rows = self.conn.execute(
            select(o.code, func.count())
            .where(o.workspace_id == workspace_id, o.run_id == run_id, o.result == "refused")
            .group_by(o.code)
        )
        return {str(code): int(n) for code, n in rows}

    def runs_for_user(
        self, workspace_id: str, user_id: str, limit: int
    ) -> list[tuple[Run, ResultRow, str]]:
        """The runs that touched a user (real runs, newest first), with the outcome and
        the rule's name: for the user's profile."""
        o, c, r = automation_outcomes.c, automation_runs.c, automation_rules.c
        rows = self.conn.execute(
            select(automation_runs, automation_outcomes, r.name.label("rule_name"))
            .join(
                automation_outcomes,
                and_(o.workspace_id == c.workspace_id, o.run_id == c.id),
            )
            .join(automation_rules, and_(r.workspace_id == c.workspace_id, r.id == c.rule_id))
            .where(o.workspace_id == workspace_id, o.user_id == user_id, c.dry_run == false())
            .order_by(c.started_at.desc())
            .limit(limit)
        )
        return [(run_from_row(row), _outcome(row), row.rule_name) for row in rows]

    def candidates(
        self,
        workspace_id: str,
        where: UserFilter,
        *,
        after: str | None,
        limit: int,
        lock: bool = False,
    ) -> list[Subject]:
        """The next `limit` users by id after `after` that `where` (a rule's conditions)
        selects, with what the action sends and the decision reads."""
        u = users.c
        query = select(*_SUBJECT_COLUMNS).where(*user_where(workspace_id, where))
        if after:
            query = query.where(u.id > after)
        query = query.order_by(u.id).limit(limit)
        if lock and self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return [_subject_of(r) for r in self.conn.execute(query)]

    def subject(self, workspace_id: str, user_id: str, where: UserFilter) -> Subject | None:
        """The user, if `where` (a rule's conditions) selects them."""
        query = select(*_SUBJECT_COLUMNS).where(
            *user_where(workspace_id, where), users.c.id == user_id
        )
        row = self.conn.execute(query).first()
        return _subject_of(row) if row is not None else None

    def ensure_cursor(self, workspace_id: str) -> None:
        """Start reading the workspace's audit log from now, if not reading it already."""
        exists = self.conn.execute(
            select(automation_cursors.c.audit_seq).where(
                automation_cursors.c.workspace_id == workspace_id
            )
        ).first()
        if exists is None:
            seq = self.conn.execute(
                select(user_counts.c.audit_seq).where(user_counts.c.workspace_id == workspace_id)
            ).scalar_one()
            self.conn.execute(
                insert(automation_cursors).values(workspace_id=workspace_id, audit_seq=seq)
            )

    def lock_cursor(self, workspace_id: str) -> int | None:
        """The workspace's audit cursor, locked until commit (None: not reading)."""
        query = select(automation_cursors.c.audit_seq).where(
            automation_cursors.c.workspace_id == workspace_id
        )
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        seq: int | None = self.conn.execute(query).scalar()
        return seq

    def set_cursor(self, workspace_id: str, seq: int) -> None:
        self.conn.execute(
            update(automation_cursors)
            .where(automation_cursors.c.workspace_id == workspace_id)
            .values(audit_seq=seq)
        )

    def applied_events_after(self, workspace_id: str, seq: int, limit: int) -> list[AppliedChange]:
        a = audit_events.c
        rows = self.conn.execute(
            select(
                a.seq, a.id, a.user_id, a.from_status, a.to_status, a.route, a.reason_code,
                a.batch_id,
            )
            .where(
                a.workspace_id == workspace_id,
                a.seq > seq,
                a.outcome == "applied",
                a.kind == "status",  # admin actions change no user's status
            )
            .order_by(a.seq)
            .limit(limit)
        )  # fmt: skip
        return [AppliedChange(*row) for row in rows]

    def workspaces_with_events(self, limit: int) -> list[str]:
        """Workspaces with audit events not yet read, or event rows waiting in the outbox."""
        cur, uc, ob = automation_cursors.c, user_counts.c, outbox.c
        behind = (
            select(cur.workspace_id)
            .join(user_counts, uc.workspace_id == cur.workspace_id)
            .where(uc.audit_seq > cur.audit_seq)
        )
        waiting = (
            select(ob.workspace_id)
            .where(ob.sent_at.is_(None), ob.topic != STATUS_CHANGED_TOPIC)
            .distinct()
        )
        found = [r[0] for r in self.conn.execute(behind.limit(limit))]
        found += [r[0] for r in self.conn.execute(waiting.limit(limit)) if r[0] not in found]
        return found

    def pending_events(self, workspace_id: str, limit: int) -> list[QueuedEvent]:
        """Event rows of the outbox (user.signed_in and external events), oldest first,
        locked (other dispatchers skip them)."""
        ob = outbox.c
        query = (
            select(ob.id, ob.topic, ob.payload, ob.created_at)
            .where(
                ob.workspace_id == workspace_id,
                ob.sent_at.is_(None),
                ob.topic != STATUS_CHANGED_TOPIC,
            )
            .order_by(ob.created_at, ob.id)
            .limit(limit)
        )
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return [QueuedEvent(r.id, r.topic, r.payload) for r in self.conn.execute(query)]

    def mark_sent(self, workspace_id: str, ids: Sequence[str], now: datetime) -> None:
        if ids:
            self.conn.execute(
                update(outbox)
                .where(outbox.c.workspace_id == workspace_id, outbox.c.id.in_(list(ids)))
                .values(sent_at=now)
            )
