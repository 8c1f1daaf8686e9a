"""`GET /metrics` in the Prometheus text format.

Two sources. Each process counts the requests it answers (by route template, method
and status, with a latency histogram) in prometheus-client's metrics; `roster serve`
sets PROMETHEUS_MULTIPROC_DIR so the counts of all its worker processes are added up
whichever worker answers the scrape. Everything else (status changes by route and
outcome, refusals on Blocked users, jobs by state, what waits, the outbox) is read
from the database at scrape time, so every process and every server reports the
same figures: aggregate those with max(), not sum().
"""

import os
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

from roster.entrypoints.web.route_templates import Templates, answered
from roster.services.operations import Backlog, OpsCounts, connections_in_use, ops_counts

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's own setting

PER_PROCESS = CollectorRegistry()
REQUESTS = Counter(
    "roster_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
    registry=PER_PROCESS,
)
LATENCY = Histogram(
    "roster_http_request_duration_seconds",
    "Time to answer a request, by route template and method.",
    ["route", "method"],
    registry=PER_PROCESS,
)
POOL = Gauge(
    "roster_db_pool_in_use",
    "Database connections checked out of the pool, summed over live processes.",
    multiprocess_mode="livesum",
    registry=PER_PROCESS,
)


class RequestMetrics:
    """Pure ASGI: counts and times every request, after the router has matched it."""

    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app, self.engine, self.templates = app, engine, Templates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await answered(self.app, scope, receive, send, lambda s, t: self._count(scope, s, t))

    def _count(self, scope: Scope, status: int, seconds: float) -> None:
        route, method = self.templates.of(scope), scope["method"]
        REQUESTS.labels(route, method, str(status)).inc()
        LATENCY.labels(route, method).observe(seconds)
        POOL.set(connections_in_use(self.engine))


class ProcessMetrics(Collector):
    """This process's request metrics, when no multiprocess directory adds up others."""

    def collect(self) -> Iterator[Metric]:
        yield from PER_PROCESS.collect()


class DatabaseMetrics(Collector):
    """The figures read from the database at each scrape."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine, self.clock = engine, clock

    def collect(self) -> Iterator[Metric]:
        now = self.clock()
        counts = ops_counts(self.engine, now)
        up = GaugeMetricFamily("roster_database_up", "1 when the database answered the scrape.")
        up.add_metric([], 0 if counts is None else 1)
        yield up
        if counts is not None:
            yield from _status_changes(counts)
            yield from _jobs(counts, now)
            yield from _outbox(counts, now)


def _status_changes(counts: OpsCounts) -> Iterator[Metric]:
    changes = CounterMetricFamily(
        "roster_status_changes",
        "Status events in the audit log, by route and outcome (applied or the refusal code).",
        labels=["route", "outcome"],
    )
    blocked = CounterMetricFamily(
        "roster_blocked_refusals",
        "Refused attempts to change a Blocked user, by route.",
        labels=["route"],
    )
    for (route, outcome), n in sorted(counts.status_changes.items()):
        changes.add_metric([route, outcome], n)
        if outcome == "user_blocked":
            blocked.add_metric([route], n)
    yield changes
    yield blocked


def _jobs(counts: OpsCounts, now: datetime) -> Iterator[Metric]:
    by_state = GaugeMetricFamily(
        "roster_jobs", "Bulk jobs and automation runs by kind and state.", labels=["kind", "state"]
    )
    waiting = GaugeMetricFamily(
        "roster_jobs_waiting", "Jobs that can run and no runner holds.", labels=["kind"]
    )
    oldest = GaugeMetricFamily(
        "roster_jobs_oldest_waiting_seconds",
        "Age of the oldest job no runner holds (0: none waits).",
        labels=["kind"],
    )
    for kind, states, backlog in (
        ("bulk", counts.bulk_jobs, counts.bulk_waiting),
        ("automation", counts.automation_runs, counts.runs_waiting),
    ):
        for state, n in sorted(states.items()):
            by_state.add_metric([kind, state], n)
        waiting.add_metric([kind], backlog.waiting)
        oldest.add_metric([kind], _age(backlog, now))
    yield from (by_state, waiting, oldest)


def _outbox(counts: OpsCounts, now: datetime) -> Iterator[Metric]:
    backlog = GaugeMetricFamily(
        "roster_outbox_backlog", "Outbox rows not yet sent, by topic.", labels=["topic"]
    )
    oldest = GaugeMetricFamily(
        "roster_outbox_oldest_seconds", "Age of the oldest unsent outbox row.", labels=["topic"]
    )
    for topic, waiting in sorted(counts.outbox.items()):
        backlog.add_metric([topic], waiting.waiting)
        oldest.add_metric([topic], _age(waiting, now))
    yield from (backlog, oldest)


def _age(backlog: Backlog, now: datetime) -> float:
    return 0.0 if backlog.oldest is None else max((now - backlog.oldest).total_seconds(), 0.0)


def registry_for(engine: Engine, clock: Callable[[], datetime]) -> CollectorRegistry:
    """What a scrape reads: every worker's request metrics and the database's figures."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROCESS_DIR):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped upstream
    else:
        registry.register(ProcessMetrics())
    registry.register(DatabaseMetrics(engine, clock))
    return registry
