"""Webhooks: queueing events for the subscribed endpoints (inside the transaction of
the change), delivering them afterwards, and the endpoints' management.

Every webhook leaves through `deliver_due`: the events of the catalogue, the
endpoint's test event, and the automation rules' `webhook` action. One delivery
path and one log of attempts.
"""

import base64
import json
import random
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from roster.adapters import webhooks as http
from roster.config import Settings
from roster.domain import errors, network
from roster.domain.audit import AuditKind, admin_action, changed_fields
from roster.domain.ids import new_id, new_ids
from roster.domain.users import Actor
from roster.domain.vocabulary import Route
from roster.domain.webhooks import (
    BILLING,
    BILLING_EVERY,
    TEST,
    AttemptRecord,
    Claimed,
    Delivery,
    Endpoint,
    Event,
    NewDelivery,
    Verdict,
    after_attempt,
    check_events,
)
from roster.services import mail
from roster.services.ports import UnitOfWork

Sender = Callable[[str, dict[str, str], bytes], http.Attempt]
Clock = Callable[[], datetime]
ROTATION_OVERLAP = timedelta(hours=24)  # the old secret signs beside the new one
BATCH = 20  # deliveries per claim: sent one after another within the claim


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def body(event: Event, now: datetime, user: dict[str, Any] | None = None) -> str:
    """The JSON every attempt of a delivery sends: type, timestamp, data."""
    data = {**event.data, "user": user} if user is not None else event.data
    payload = {"type": event.type, "timestamp": now.isoformat(), "data": data}
    return json.dumps(payload, separators=(",", ":"), default=_plain)


def _plain(value: object) -> str:
    """Moments in ISO 8601 (as `timestamp`), enums and the rest as their string."""
    return value.isoformat() if isinstance(value, datetime) else str(value)


# --------------------------------------------------------------------- queueing


def publish(uow: UnitOfWork, workspace_id: str, events: Iterable[Event], now: datetime) -> None:
    """Queue `events` for the workspace's endpoints that subscribe to them, inside
    the caller's unit of work (so they leave only if the change commits). With no
    endpoint, one indexed read and nothing else: `events` is not even iterated."""
    subscribers = uow.webhooks.subscribers(workspace_id)
    if not subscribers:
        return
    wanted = [(ep, ev) for ev in events for ep in subscribers if ep.wants(ev.type)]
    if not wanted:
        return
    about = sorted({ev.user_id for _, ev in wanted if ev.user_id is not None})
    contacts = uow.mail.contacts(workspace_id, about) if about else {}
    bodies: dict[int, str] = {}
    queued: list[NewDelivery] = []
    for (ep, ev), delivery_id in zip(wanted, new_ids("msg", len(wanted)), strict=True):
        if id(ev) not in bodies:
            bodies[id(ev)] = body(ev, now, _user(ev.user_id, contacts))
        if ev.type == BILLING and _coalesced(uow, ep, bodies[id(ev)]):
            continue
        due = _billing_due(uow, ep, now) if ev.type == BILLING else now
        queued.append(
            NewDelivery(workspace_id, delivery_id, ev.type, bodies[id(ev)], now, due, ep.id)
        )
    uow.webhooks.queue(queued)


def _user(user_id: str | None, contacts: dict[str, tuple[str, str]]) -> dict[str, Any] | None:
    if user_id is None:
        return None
    email, name = contacts.get(user_id, (None, None))
    return {"id": user_id, "email": email, "name": name}


def _coalesced(uow: UnitOfWork, ep: Endpoint, text: str) -> bool:
    """A billing count not yet sent takes the newer count instead of a second message."""
    return uow.webhooks.replace_unsent(ep.workspace_id, ep.id, BILLING, text)


def _billing_due(uow: UnitOfWork, ep: Endpoint, now: datetime) -> datetime:
    """At most one billing message a minute: the next waits for the minute to pass."""
    last = uow.webhooks.last_queued(ep.workspace_id, ep.id, BILLING)
    return max(now, last + BILLING_EVERY) if last is not None else now


def billing_event(active_users: int) -> Event:
    return Event(BILLING, {"active_users": active_users})


def queue_rule_webhooks(
    uow: UnitOfWork,
    workspace_id: str,
    *,
    rule_id: str,
    url: str,
    events: Sequence[Event],
    now: datetime,
) -> None:
    """Queue an automation rule's webhooks (signed with the rule's secret)."""
    ids = new_ids("msg", len(events))
    uow.webhooks.queue(
        [
            NewDelivery(workspace_id, i, ev.type, body(ev, now), now, now, rule_id=rule_id, url=url)
            for ev, i in zip(events, ids, strict=True)
        ]
    )


# ------------------------------------------------------------------- delivering


def sender(*, allow_private: bool, timeout: float) -> http.Poster:
    """POSTs over HTTP with the network rules (inside addresses refused unless
    allowed), each destination's connection kept open until it is closed."""
    return http.Poster(allow_private=allow_private, timeout=timeout)


def deliver_due(
    uow: UnitOfWork,
    clock: Clock,
    *,
    send: Sender,
    timeout: float,
    limit: int = BATCH,
    jitter: Callable[[], float] = random.random,
    public_url: str = "",
) -> int:
    """Send the deliveries that are due; how many succeeded.

    They are claimed in one short transaction, sent with no transaction open, and
    their attempts recorded together in one more: a claim lasts longer than its
    sends can take (`timeout` each), so no other deliverer sends them meanwhile,
    and a deliverer that dies before recording leaves them to be sent again when
    the claim runs out (at least once: receivers drop repeats by webhook-id).
    """
    now = clock()
    with uow:
        claimed = uow.webhooks.claim(now, limit, now + _claim_length(timeout, limit))
        uow.commit()
    if not claimed:
        return 0
    done = [_attempt(c, clock, send, jitter) for c in claimed]
    with uow:
        uow.webhooks.finish(done)
        for c, tried, verdict in done:
            if verdict.disable:
                _tell_owners(uow, c, tried.at, public_url)
        uow.commit()
    return sum(verdict.state == "succeeded" for _, _, verdict in done)


def deliver_configured(uow: UnitOfWork, clock: Clock, settings: Settings) -> int:
    """`deliver_due` as the settings say (network rules, timeout, links): for the
    background tick of `roster serve` and `roster worker`, and the CLI."""
    timeout = settings.webhook_timeout_seconds
    with sender(allow_private=settings.webhook_allow_private, timeout=timeout) as send:
        return deliver_due(uow, clock, send=send, timeout=timeout, public_url=settings.public_url)


def _claim_length(timeout: float, limit: int) -> timedelta:
    return timedelta(seconds=max(120.0, 2 * timeout * (limit + 1)))


def _attempt(
    c: Claimed, clock: Clock, send: Sender, jitter: Callable[[], float]
) -> tuple[Claimed, AttemptRecord, Verdict]:
    """Sign and send one delivery, and judge the answer."""
    now = clock()
    text = c.body.encode()
    if c.url is None or not c.secrets:  # a rule's webhook whose rule was deleted
        result = http.Attempt(None, "the rule that queued this webhook is gone", 0)
        verdict = Verdict("failed", None)
    else:
        result = send(c.url, http.headers(c.secrets, c.id, int(now.timestamp()), text), text)
        verdict = after_attempt(c, result.ok, now, jitter())
    tried = AttemptRecord(
        c.attempt, now, result.status_code, result.error, result.duration_ms, result.response
    )
    return c, tried, verdict


def _tell_owners(uow: UnitOfWork, c: Claimed, now: datetime, public_url: str) -> None:
    """Email the workspace's owners that the endpoint was disabled (the mail outbox)."""
    workspace = uow.workspaces.get(c.workspace_id)
    name = workspace.name if workspace else c.workspace_id
    drafts = [
        mail.compose(
            mail.Kind.WEBHOOK_DISABLED,
            key=f"{c.id}.{user_id}",
            to=email,
            subject=f"A webhook endpoint of {name} was disabled",
            name=person,
            workspace=name,
            url=c.url,
            link=f"{public_url}/admin/webhooks/{c.endpoint_id}",
        )
        for user_id, email, person in uow.webhooks.owner_contacts(c.workspace_id)
    ]
    mail.queue(uow, c.workspace_id, drafts, now)


# ------------------------------------------------------------------- endpoints


def _check_url(url: str, allow_private: bool) -> str:
    url = url.strip()
    if not url.startswith(("http://", "https://")) or len(url) > 2000:
        raise errors.InvalidInput(
            "url: must be an http or https address (2000 characters at most)."
        )
    refusal = None if allow_private else network.url_refusal(url)
    if refusal is not None:
        raise errors.InvalidInput(f"url: {refusal}")
    return url


def _check_description(description: str | None) -> str | None:
    if description is not None and len(description) > 500:
        raise errors.InvalidInput("description: 500 characters at most.")
    return description or None


def create_endpoint(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    url: str,
    events: Sequence[str],
    description: str | None,
    now: datetime,
    route: Route,
    actor: Actor,
    request_id: str | None = None,
    allow_private: bool = False,
) -> Endpoint:
    """Subscribe `url` to `events`, audited; the endpoint comes back with its secret,
    which is shown this once."""
    endpoint = Endpoint(
        workspace_id=workspace_id,
        id=new_id("whe"),
        url=_check_url(url, allow_private),
        events=check_events(events),
        secret=new_secret(),
        created_at=now,
        updated_at=now,
        description=_check_description(description),
    )
    with uow:
        uow.webhooks.add(endpoint)
        _audit(uow, None, endpoint, now, route=route, actor=actor, request_id=request_id)
        uow.commit()
    return endpoint


def get_endpoint(uow: UnitOfWork, workspace_id: str, endpoint_id: str) -> Endpoint:
    with uow.read_only() as read:
        return _found(read.webhooks.get(workspace_id, endpoint_id))


def _found(endpoint: Endpoint | None) -> Endpoint:
    if endpoint is None:
        raise errors.NotFound("No such webhook endpoint in this workspace.")
    return endpoint


def list_endpoints(
    uow: UnitOfWork, workspace_id: str, *, cursor: str | None, limit: int
) -> tuple[list[Endpoint], str | None]:
    """A page of the endpoints, oldest first, and the cursor of the next page."""
    with uow.read_only() as read:
        found = read.webhooks.page(workspace_id, cursor, limit + 1)
    return found[:limit], found[limit - 1].id if len(found) > limit else None


def update_endpoint(
    uow: UnitOfWork,
    workspace_id: str,
    endpoint_id: str,
    changes: dict[str, Any],
    *,
    now: datetime,
    route: Route,
    actor: Actor,
    request_id: str | None = None,
    allow_private: bool = False,
) -> Endpoint:
    """Change the fields given (`url`, `events`, `description`, `enabled`; a null
    leaves one as it is, but for the description, which it clears). Enabling a
    disabled endpoint forgets its failures: the three days start again."""
    changes = {k: v for k, v in changes.items() if v is not None or k == "description"}
    checked: dict[str, Any] = {}
    if "url" in changes:
        checked["url"] = _check_url(str(changes["url"]), allow_private)
    if "events" in changes:
        checked["events"] = check_events(changes["events"])
    if "description" in changes:
        checked["description"] = _check_description(changes["description"])
    if "enabled" in changes:
        checked["enabled"] = bool(changes["enabled"])
        if checked["enabled"]:
            checked |= {"failing_since": None, "disabled_reason": None}
    with uow:
        before = _found(uow.webhooks.get(workspace_id, endpoint_id))
        endpoint = replace(before, **checked)
        endpoint.updated_at = now
        uow.webhooks.save(endpoint)
        _audit(uow, before, endpoint, now, route=route, actor=actor, request_id=request_id)
        uow.commit()
    return endpoint


def delete_endpoint(
    uow: UnitOfWork,
    workspace_id: str,
    endpoint_id: str,
    *,
    now: datetime,
    route: Route,
    actor: Actor,
    request_id: str | None = None,
) -> None:
    """Unsubscribe, audited: its waiting deliveries are dropped."""
    with uow:
        before = _found(uow.webhooks.get(workspace_id, endpoint_id))
        uow.webhooks.delete(workspace_id, endpoint_id)
        _audit(uow, before, None, now, route=route, actor=actor, request_id=request_id)
        uow.commit()


def rotate_secret(
    uow: UnitOfWork,
    workspace_id: str,
    endpoint_id: str,
    now: datetime,
    *,
    route: Route,
    actor: Actor,
    request_id: str | None = None,
) -> Endpoint:
    """A new secret, shown once; the old one signs beside it for ROTATION_OVERLAP."""
    with uow:
        old = _found(uow.webhooks.get(workspace_id, endpoint_id))
        endpoint = replace(
            old,
            secret=new_secret(),
            previous_secret=old.secret,
            previous_secret_until=now + ROTATION_OVERLAP,
            updated_at=now,
        )
        uow.webhooks.save(endpoint)
        _audit(uow, old, endpoint, now, route=route, actor=actor, request_id=request_id)
        uow.commit()
    return endpoint


def _audit(
    uow: UnitOfWork,
    before: Endpoint | None,
    after: Endpoint | None,
    now: datetime,
    *,
    route: Route,
    actor: Actor,
    request_id: str | None,
) -> None:
    """`webhook.changed`: an endpoint made (fields from None), changed, re-keyed
    (`secret: [None, "rotated"]`, never the secret) or deleted (fields to None). An
    endpoint receives users' data, so who pointed one where is on the record."""
    changes = changed_fields(_audited(before), _audited(after))
    if before is not None and after is not None and before.secret != after.secret:
        changes["secret"] = [None, "rotated"]
    endpoint = after or before
    if not changes or endpoint is None:
        return
    entry = admin_action(
        AuditKind.WEBHOOK_CHANGED,
        changes,
        workspace_id=endpoint.workspace_id,
        route=route,
        actor=actor,
        at=now,
        entry_id=new_id("evt"),
        request_id=request_id,
        note=endpoint.id,
    )
    uow.audit.append([entry])


def _audited(e: Endpoint | None) -> dict[str, Any]:
    if e is None:
        return {}
    return {"url": e.url, "events": e.events, "description": e.description, "enabled": e.enabled}


def send_test(uow: UnitOfWork, workspace_id: str, endpoint_id: str, now: datetime) -> str:
    """Queue a `webhook.test` event to this endpoint alone; the delivery's id."""
    with uow:
        endpoint = _found(uow.webhooks.get(workspace_id, endpoint_id))
        event = Event(TEST, {"endpoint_id": endpoint.id, "message": "Hello from Roster."})
        delivery_id = new_id("msg")
        uow.webhooks.queue(
            [NewDelivery(workspace_id, delivery_id, TEST, body(event, now), now, now, endpoint.id)]
        )
        uow.commit()
    return delivery_id


def list_deliveries(
    uow: UnitOfWork,
    workspace_id: str,
    endpoint_id: str,
    *,
    state: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Delivery], str | None]:
    """A page of the endpoint's deliveries, newest first, each with its attempts."""
    with uow.read_only() as read:
        _found(read.webhooks.get(workspace_id, endpoint_id))
        found = read.webhooks.deliveries(
            workspace_id, endpoint_id, state=state, before=cursor, limit=limit + 1
        )
        page = found[:limit]
        tried = read.webhooks.attempts(workspace_id, [p.id for p in page])
    items = [replace(p, tried=tried[p.id]) for p in page]
    return items, page[-1].id if len(found) > limit else None


def get_delivery(uow: UnitOfWork, workspace_id: str, delivery_id: str) -> Delivery:
    with uow.read_only() as read:
        found = read.webhooks.delivery(workspace_id, delivery_id)
        if found is None or found.endpoint_id is None:
            raise errors.NotFound("No such webhook delivery in this workspace.")
        tried = read.webhooks.attempts(workspace_id, [found.id])
    return replace(found, tried=tried[found.id])


def retry_delivery(uow: UnitOfWork, workspace_id: str, delivery_id: str, now: datetime) -> None:
    """Send a delivery again now, with its webhook-id and body (a replay)."""
    with uow:
        found = uow.webhooks.delivery(workspace_id, delivery_id)
        if found is None or found.endpoint_id is None:
            raise errors.NotFound("No such webhook delivery in this workspace.")
        uow.webhooks.retry(workspace_id, delivery_id, now)
        uow.commit()
