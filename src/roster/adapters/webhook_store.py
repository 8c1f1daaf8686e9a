"""Webhook endpoints, their deliveries and each attempt, in SQL (the `WebhookStore` port).

A deliverer claims due deliveries in one short transaction: the rows are locked
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two deliverers take different rows; the
write lock on SQLite), their attempt counted and their due time pushed to the end
of the claim. So no two deliverers send one attempt, and one that dies mid-send
leaves the delivery to be tried again when its claim runs out.
"""

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, or_, select, update

from roster.adapters.tables import (
    automation_rules,
    users,
    webhook_deliveries,
    webhook_endpoints,
    webhook_messages,
)
from roster.domain.ids import new_id
from roster.domain.vocabulary import Role, Status
from roster.domain.webhooks import (
    AttemptRecord,
    Claimed,
    Delivery,
    Endpoint,
    NewDelivery,
    Verdict,
)

ENDPOINT_COLUMNS = [c.name for c in webhook_endpoints.columns]
e, m, d = webhook_endpoints.c, webhook_messages.c, webhook_deliveries.c


def _endpoint(row: Any) -> Endpoint:
    return Endpoint(**{k: row._mapping[k] for k in ENDPOINT_COLUMNS})


def _delivery(row: Any) -> Delivery:
    return Delivery(
        workspace_id=row.workspace_id,
        id=row.id,
        endpoint_id=row.endpoint_id,
        event_type=row.event_type,
        state=row.state,
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        last_status_code=row.last_status_code,
        body=row.body,
    )


class SqlWebhookStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --------------------------------------------------------------- endpoints

    def subscribers(self, workspace_id: str) -> list[Endpoint]:
        """The workspace's enabled endpoints (one indexed read: most have none)."""
        rows = self.conn.execute(
            select(webhook_endpoints).where(e.workspace_id == workspace_id, e.enabled.is_(True))
        )
        return [_endpoint(r) for r in rows]

    def add(self, endpoint: Endpoint) -> None:
        self.conn.execute(insert(webhook_endpoints).values(**asdict(endpoint)))

    def get(self, workspace_id: str, endpoint_id: str) -> Endpoint | None:
        row = self.conn.execute(
            select(webhook_endpoints).where(e.workspace_id == workspace_id, e.id == endpoint_id)
        ).first()
        return _endpoint(row) if row else None

    def page(self, workspace_id: str, after: str | None, limit: int) -> list[Endpoint]:
        query = select(webhook_endpoints).where(e.workspace_id == workspace_id)
        if after is not None:
            query = query.where(e.id > after)
        return [_endpoint(r) for r in self.conn.execute(query.order_by(e.id).limit(limit))]

    def save(self, endpoint: Endpoint) -> None:
        values = asdict(endpoint)
        self.conn.execute(
            update(webhook_endpoints)
            .where(e.workspace_id == endpoint.workspace_id, e.id == endpoint.id)
            .values(**{k: v for k, v in values.items() if k not in ("workspace_id", "id")})
        )

    def delete(self, workspace_id: str, endpoint_id: str) -> bool:
        """Remove the endpoint and its deliveries (the attempts stay in the log)."""
        self.conn.execute(
            delete(webhook_messages).where(
                m.workspace_id == workspace_id, m.endpoint_id == endpoint_id
            )
        )
        gone = self.conn.execute(
            delete(webhook_endpoints).where(e.workspace_id == workspace_id, e.id == endpoint_id)
        )
        return gone.rowcount > 0

    def owner_contacts(self, workspace_id: str) -> list[tuple[str, str, str]]:
        """The Active owners' (id, email, name): who hears that an endpoint was disabled."""
        u = users.c
        rows = self.conn.execute(
            select(u.id, u.email, u.name)
            .where(
                u.workspace_id == workspace_id,
                u.role == Role.OWNER.value,
                u.status == Status.ACTIVE.value,
            )
            .order_by(u.id)
        )
        return [(r.id, r.email, r.name) for r in rows]

    # -------------------------------------------------------------- deliveries

    def queue(self, deliveries: Sequence[NewDelivery]) -> None:
        if deliveries:
            self.conn.execute(
                insert(webhook_messages),
                [{**asdict(n), "state": "pending", "attempts": 0} for n in deliveries],
            )

    def replace_unsent(
        self, workspace_id: str, endpoint_id: str, event_type: str, body: str
    ) -> bool:
        """Give a delivery of `event_type` not yet tried a newer body; False if none."""
        done = self.conn.execute(
            update(webhook_messages)
            .where(
                m.workspace_id == workspace_id,
                m.endpoint_id == endpoint_id,
                m.event_type == event_type,
                m.state == "pending",
                m.attempts == 0,
            )
            .values(body=body)
        )
        return done.rowcount > 0

    def last_queued(self, workspace_id: str, endpoint_id: str, event_type: str) -> datetime | None:
        when: datetime | None = self.conn.execute(
            select(m.created_at)
            .where(
                m.workspace_id == workspace_id,
                m.endpoint_id == endpoint_id,
                m.event_type == event_type,
            )
            .order_by(m.id.desc())
            .limit(1)
        ).scalar()
        return when

    def claim(self, now: datetime, limit: int, until: datetime) -> list[Claimed]:
        """Take up to `limit` due deliveries for one attempt each, until `until`."""
        r = automation_rules.c
        query = (
            select(
                m.workspace_id,
                m.id,
                m.attempts,
                m.url,
                m.body,
                m.endpoint_id,
                m.rule_id,
                m.created_at,
                e.url.label("endpoint_url"),
                e.secret,
                e.previous_secret,
                e.previous_secret_until,
                e.failing_since,
                r.webhook_secret,
            )
            .select_from(
                webhook_messages.outerjoin(
                    webhook_endpoints,
                    and_(e.workspace_id == m.workspace_id, e.id == m.endpoint_id),
                ).outerjoin(
                    automation_rules, and_(r.workspace_id == m.workspace_id, r.id == m.rule_id)
                )
            )
            .where(
                m.next_attempt_at <= now,
                m.state == "pending",
                or_(m.endpoint_id.is_(None), e.enabled.is_(True)),
            )
            .order_by(m.next_attempt_at)
            .limit(limit)
        )
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=webhook_messages)
        rows = list(self.conn.execute(query))
        if rows:
            self.conn.execute(
                update(webhook_messages)
                .where(m.workspace_id == bindparam("w"), m.id == bindparam("i"))
                .values(attempts=m.attempts + 1, next_attempt_at=until),
                [{"w": row.workspace_id, "i": row.id} for row in rows],
            )
        return [_claimed(row, now) for row in rows]

    def finish(self, done: Sequence[tuple[Claimed, AttemptRecord, Verdict]]) -> None:
        """Record each attempt, its delivery's new state, and its endpoint's health
        (a batch: one statement per table, but for the endpoints whose health changed)."""
        if not done:
            return
        self.conn.execute(
            insert(webhook_deliveries),
            [
                {
                    "workspace_id": c.workspace_id,
                    "id": new_id("att"),
                    "message_id": c.id,
                    "endpoint_id": c.endpoint_id,
                    "rule_id": c.rule_id,
                    "url": c.url or "",
                    **asdict(tried),
                }
                for c, tried, _ in done
            ],
        )
        self.conn.execute(
            update(webhook_messages)
            .where(m.workspace_id == bindparam("b_w"), m.id == bindparam("b_i"))
            .values(
                state=bindparam("b_state"),
                next_attempt_at=bindparam("b_next"),
                last_status_code=bindparam("b_code"),
            ),
            [
                {
                    "b_w": c.workspace_id,
                    "b_i": c.id,
                    "b_state": verdict.state,
                    "b_next": verdict.next_attempt_at,
                    "b_code": tried.status_code,
                }
                for c, tried, verdict in done
            ],
        )
        for c, tried, verdict in done:
            healthy = verdict.state == "succeeded" and c.failing_since is None
            if c.endpoint_id is not None and not healthy:
                self._endpoint_health(c, verdict, tried.at)

    def _endpoint_health(self, claimed: Claimed, verdict: Verdict, now: datetime) -> None:
        mine = and_(e.workspace_id == claimed.workspace_id, e.id == claimed.endpoint_id)
        values: dict[str, Any]
        if verdict.state == "succeeded":
            values = {"failing_since": None}
            mine = and_(mine, e.failing_since.is_not(None))
        elif verdict.disable:
            values = {"enabled": False, "disabled_reason": "failed every attempt for 3 days"}
        else:
            values = {"failing_since": now}
            mine = and_(mine, e.failing_since.is_(None))
        self.conn.execute(update(webhook_endpoints).where(mine).values(**values))

    def deliveries(
        self,
        workspace_id: str,
        endpoint_id: str,
        *,
        state: str | None,
        before: str | None,
        limit: int,
    ) -> list[Delivery]:
        """The endpoint's deliveries, newest first."""
        query = select(webhook_messages).where(
            m.workspace_id == workspace_id, m.endpoint_id == endpoint_id
        )
        if state is not None:
            query = query.where(m.state == state)
        if before is not None:
            query = query.where(m.id < before)
        rows = self.conn.execute(query.order_by(m.id.desc()).limit(limit))
        return [_delivery(r) for r in rows]

    def delivery(self, workspace_id: str, delivery_id: str) -> Delivery | None:
        row = self.conn.execute(
            select(webhook_messages).where(m.workspace_id == workspace_id, m.id == delivery_id)
        ).first()
        return _delivery(row) if row else None

    def attempts(self, workspace_id: str, ids: Sequence[str]) -> dict[str, list[AttemptRecord]]:
        """Each delivery's attempts, oldest first."""
        found: dict[str, list[AttemptRecord]] = {i: [] for i in ids}
        rows = self.conn.execute(
            select(d.message_id, d.attempt, d.at, d.status_code, d.error, d.duration_ms, d.response)
            .where(d.workspace_id == workspace_id, d.message_id.in_(list(ids)))
            .order_by(d.message_id, d.attempt, d.at)
        )
        for r in rows:
            found[r.message_id].append(
                AttemptRecord(r.attempt, r.at, r.status_code, r.error, r.duration_ms, r.response)
            )
        return found

    def retry(self, workspace_id: str, delivery_id: str, now: datetime) -> bool:
        """Make a delivery due now, whatever its state (a replay: receivers drop the
        duplicates by its webhook-id)."""
        done = self.conn.execute(
            update(webhook_messages)
            .where(m.workspace_id == workspace_id, m.id == delivery_id)
            .values(state="pending", next_attempt_at=now)
        )
        return done.rowcount > 0


def _claimed(row: Any, now: datetime) -> Claimed:
    if row.endpoint_id is None:
        url, secrets = row.url, [row.webhook_secret] if row.webhook_secret else []
    else:
        endpoint = Endpoint(
            workspace_id=row.workspace_id,
            id=row.endpoint_id,
            url=row.endpoint_url,
            events=[],
            secret=row.secret,
            created_at=row.created_at,
            previous_secret=row.previous_secret,
            previous_secret_until=row.previous_secret_until,
        )
        url, secrets = endpoint.url, endpoint.secrets(now)
    return Claimed(
        workspace_id=row.workspace_id,
        id=row.id,
        attempt=row.attempts + 1,
        url=url,
        secrets=secrets,
        body=row.body,
        endpoint_id=row.endpoint_id,
        rule_id=row.rule_id,
        failing_since=row.failing_since,
        created_at=row.created_at,
    )
