"""Billing: the active count at 10,000 and 1,000,000 users next to reading one row by
primary key; and a one-year usage report over 1,000,000 audit events.

Run: .venv/bin/python -m bench.bench_billing [--database-url URL] [--big 1000000]
     [--report-users 100000] [--report-events 1000000]

Seeding goes straight to the tables (bench/seed.py; it is test data, not the thing
measured). Each timing is the median of many calls, interleaved with its
baseline in the same run on the same database.
"""

import argparse
import random
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, select, update

from bench import seed
from roster.adapters.tables import user_counts, users
from roster.adapters.unit_of_work import SqlUnitOfWork
from roster.bootstrap import Container
from roster.domain.vocabulary import Status
from roster.services import billing, queries

AUDITED = (
    *("workspace_id", "id", "seq", "user_id", "from_status", "to_status", "route"),
    *("actor_name", "at", "outcome", "hash"),
)
THIRDS = seed.Mix(statuses={Status.ACTIVE: 1, Status.INACTIVE: 1, Status.BLOCKED: 1})
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def median_us(fn: Callable[[], object], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1e6


def count_vs_pk(engine: Engine, ws: str, user_id: str, rounds: int = 3000) -> tuple[float, float]:
    """The active count (counter row) and a users row by primary key, interleaved."""
    with engine.connect() as conn:

        def count() -> object:
            return queries.user_counts_of(conn, ws).active

        def pk_row() -> object:
            return conn.execute(
                select(users.c.status).where(users.c.workspace_id == ws, users.c.id == user_id)
            ).first()

        counts, pks = [], []
        for _ in range(5):
            counts.append(median_us(count, rounds // 5))
            pks.append(median_us(pk_row, rounds // 5))
        conn.rollback()
    return statistics.median(counts), statistics.median(pks)


def seed_history(c: Container, n_users: int, n_events: int) -> str:
    """A workspace of n_users Active members created on T0, then status changes at
    increasing times over the year (2% of attempts refused), with the users table
    and counter left consistent; its id."""
    ws = seed.workspace(c, n_users, now=T0).id
    rng = random.Random(7)
    ids = [seed.user_id(i) for i in range(n_users)]
    status = dict.fromkeys(ids, "active")
    span = timedelta(days=366).total_seconds()
    stamps = sorted(rng.uniform(30 * 86400, span) for _ in range(n_events - n_users))
    with c.engine.connect() as conn:  # after the owner's creation
        seq = conn.execute(
            select(user_counts.c.audit_seq).where(user_counts.c.workspace_id == ws)
        ).scalar_one()

    def event(
        user_id: str, frm: str | None, to: str, at: datetime, outcome: str
    ) -> tuple[object, ...]:
        nonlocal seq
        seq += 1
        return (ws, f"evt_{seq:012d}", seq, user_id, frm, to, "automation", "bench", at,
                outcome, "")  # fmt: skip

    def events() -> Iterator[tuple[object, ...]]:
        for i, user_id in enumerate(ids):
            yield event(user_id, None, "active", T0 + timedelta(seconds=i * 25), "applied")
        for offset in stamps:
            user_id = ids[rng.randrange(n_users)]
            at = T0 + timedelta(seconds=offset)
            current = status[user_id]
            if rng.random() < 0.02:
                yield event(user_id, current, "active", at, "user_blocked")
                continue
            to = rng.choice([s for s in ("active", "inactive", "blocked") if s != current])
            status[user_id] = to
            yield event(user_id, current, to, at, "applied")

    seed.load(c.engine, "audit_events", AUDITED, events())
    final = {
        s: sum(1 for v in status.values() if v == s) for s in ("active", "inactive", "blocked")
    }
    final["active"] += 1  # the owner
    with c.engine.begin() as conn:
        for s in ("inactive", "blocked"):
            who = [u for u, v in status.items() if v == s]
            for start in range(0, len(who), 900):
                conn.execute(
                    update(users)
                    .where(users.c.workspace_id == ws, users.c.id.in_(who[start : start + 900]))
                    .values(status=s)
                )
        conn.execute(
            update(user_counts)
            .where(user_counts.c.workspace_id == ws)
            .values(**final, audit_seq=seq)
        )
    return ws


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--report-users", type=int, default=100_000)
    parser.add_argument("--report-events", type=int, default=1_000_000)
    args = parser.parse_args()
    c = seed.container(args.database_url)
    engine = c.engine
    print(f"database: {engine.dialect.name}")

    print("\n## Active count vs one row by primary key")
    for n in (args.small, args.big):
        seeded = seed.workspace(c, n, THIRDS, now=T0)
        count, pk = count_vs_pk(engine, seeded.id, seed.user_id(n // 2))
        print(
            f"{n:>9,} users (seeded in {seeded.seconds:.0f} s): active count {count:6.1f} µs, "
            f"users row by PK {pk:6.1f} µs, ratio {count / pk:.2f}x"
        )

    print(
        f"\n## One-year usage report: {args.report_users:,} users, "
        f"{args.report_events:,} audit events"
    )
    t, ws = timed(lambda: seed_history(c, args.report_users, args.report_events))
    assert isinstance(ws, str)
    print(f"seeded in {t:.0f} s")
    first, last = date(2024, 1, 1), date(2024, 12, 31)

    def report() -> billing.UsageReport:
        with engine.connect() as conn:
            workspace = queries.workspace_by_id(conn, ws)
            return billing.usage(conn, workspace, first, last)

    t_replay, replayed = timed(report)
    t_build, saved = timed(
        lambda: billing.build_snapshots(SqlUnitOfWork(engine), ws, datetime.now(UTC))
    )
    runs = [timed(report) for _ in range(5)]
    t_snap = statistics.median(r[0] for r in runs)
    assert isinstance(replayed, billing.UsageReport)
    assert all(r[1] == replayed for r in runs), "snapshots and replay disagree"
    with engine.connect() as conn:
        t_pk = median_us(lambda: queries.user_counts_of(conn, ws), 200) / 1e6
    print(f"replayed from the audit log (no snapshots): {t_replay * 1000:8.1f} ms")
    print(
        f"building the snapshots ({saved} days):        {t_build * 1000:8.1f} ms "
        "(once; nightly after that)"
    )
    print(
        f"report with snapshots (median of 5):        {t_snap * 1000:8.1f} ms "
        f"(target < 1000 ms; {t_snap / t_pk:.0f}x one PK read)"
    )
    print(f"seat-days over the year: {replayed.totals.seat_days:,}")


if __name__ == "__main__":
    main()
