"""Dormant sweep: a schedule rule deactivating the users not seen for 90 days, over
`--users` users of whom `--due` are dormant, next to hand-written set-based SQL doing
the same writes, in one run on one database. Then the rule runs a second time and
must change nothing.

Run: .venv/bin/python -m bench.bench_automations [--users 1000000] [--due 100000]
     [--database-url URL] [--rounds 1-5] [--same-file]

Two identical workspaces are seeded (the rule sweeps one, the raw SQL the other), so
both contenders find the same work. Both write the same rows for each dormant user:
the status columns, an audit event (the raw SQL leaves `hash` empty: the chain needs
the previous row), the notice queued for the user's email, the revocation UPDATEs,
the counter, an outcome row and the run row.
The raw SQL does it in one transaction of one statement each, the fastest shape
there is; the rule runs in chunks (Settings.job_chunk_size, 2,000 users, as bulk
actions), one transaction per chunk, through the domain (`apply_changes`). The
time the run spends inside `apply_changes`, the writer it shares with bulk actions,
is printed with it.

On SQLite (unless --same-file) each contender runs in a new process on a new copy
of the seeded file, as the bulk bench's contenders do: neither inherits the other's
page cache, WAL, temporary table or heap, nor the heap of the process that seeded
2,000,000 users. (In one process the run, always second, took 9.3-9.5 s against
6.9-7.7 s in a new process on the same file, while the raw SQL took the same either
way.) With `--rounds N` the pair runs N times, the order alternating, and the best
time of each side counts. On PostgreSQL, and with --same-file, the contenders run in
this process in turn on the one database (one round).
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from bench import seed as seeding
from bench.fresh_copy import fresh_copy
from roster.adapters.database import WRITE, make_engine
from roster.adapters.migrator import upgrade
from roster.bootstrap import Container
from roster.config import Settings
from roster.domain.rules.definition import dormant_template
from roster.domain.rules.runs import Run
from roster.domain.users import Actor
from roster.domain.vocabulary import Route
from roster.services import automations as auto

ACTOR = Actor(id=None, name="bench")
DAYS = 90


def seed(c: Container, n: int, due: int, now: datetime) -> str:
    """A workspace with an owner and `n` Active members, every (n // due)-th dormant,
    the others seen within the last day; all created 400 days ago."""
    mix = seeding.Mix(seen_within=timedelta(days=1), dormant=due / n)
    slug = f"sweep-{secrets.token_hex(3)}"
    created = now - timedelta(days=400)
    return seeding.workspace(c, n, mix, slug=slug, now=now, created=created).id


def raw_sweep(engine: Engine, ws: str, rule_id: str, now: datetime) -> tuple[float, int]:
    """The same writes as the rule's run, set-based, in one transaction."""
    started = time.perf_counter()
    with engine.execution_options(**WRITE).begin() as conn:
        n = _raw(conn, ws, rule_id, now)
    return time.perf_counter() - started, n


def _raw(conn: Connection, ws: str, rule_id: str, now: datetime) -> int:
    sqlite = conn.dialect.name == "sqlite"
    rand = "lower(hex(randomblob(12)))" if sqlite else "md5(random()::text)"
    at = now.replace(tzinfo=None) if sqlite else now
    run = f"run_raw{secrets.token_hex(8)}"
    p = {"ws": ws, "now": at, "cut": at - timedelta(days=DAYS), "run": run, "rule": rule_id}
    due = (
        "FROM users u WHERE u.workspace_id = :ws AND u.status = 'active' AND u.role = 'member'"
        " AND coalesce(u.last_seen_at, u.created_at) < :cut"
    )
    conn.execute(text("CREATE TEMP TABLE IF NOT EXISTS t_due (id VARCHAR(40) PRIMARY KEY)"))
    conn.execute(text("DELETE FROM t_due"))
    conn.execute(text(f"INSERT INTO t_due (id) SELECT u.id {due}"), p)
    n = conn.execute(text("SELECT count(*) FROM t_due")).scalar_one()
    conn.execute(
        text(
            "INSERT INTO automation_runs (workspace_id, id, rule_id, trigger, dry_run, state,"
            " depth, matched, applied, unchanged, refused, active_delta, started_at)"
            " VALUES (:ws, :run, :rule, 'manual', false, 'running', 0, 0, 0, 0, 0, 0, :now)"
        ),
        p,
    )
    seq = conn.execute(
        text("SELECT audit_seq FROM user_counts WHERE workspace_id = :ws"), p
    ).scalar_one()
    conn.execute(
        text(
            "INSERT INTO audit_events (workspace_id, id, seq, user_id, from_status, to_status,"
            " route, actor_id, actor_name, reason_code, note, request_id, batch_id, at, outcome,"
            " hash)"
            f" SELECT :ws, 'evt_' || {rand}, :seq + row_number() OVER (ORDER BY t.id), t.id,"
            " 'active', 'inactive', 'automation', :rule, 'bench', NULL, 'dormant', NULL, :run,"
            " :now, 'applied', '' FROM t_due t"
        ),
        p | {"seq": seq},
    )
    conn.execute(
        text(
            "INSERT INTO automation_outcomes (workspace_id, run_id, user_id, result, code,"
            " from_status, to_status)"
            " SELECT :ws, :run, t.id, 'applied', NULL, 'active', 'inactive' FROM t_due t"
        ),
        p,
    )
    context = "json_object" if sqlite else "json_build_object"
    conn.execute(
        text(
            "INSERT INTO emails (workspace_id, id, message_key, kind, to_address, subject,"
            " context, status, attempts, created_at)"
            f" SELECT :ws, 'eml_' || {rand}, 'status_notice.' || u.id, 'status_notice', u.email,"
            " 'Your ' || w.name || ' account has been deactivated',"
            f" {context}('name', u.name, 'workspace', w.name, 'status', 'inactive',"
            " 'reason', NULL),"
            " 'queued', 0, :now FROM t_due t JOIN users u ON u.workspace_id = :ws AND u.id = t.id"
            " JOIN workspaces w ON w.id = u.workspace_id"
        ),
        p,
    )
    conn.execute(
        text(
            "UPDATE users SET status = 'inactive', status_reason = NULL, status_note = 'dormant',"
            " status_changed_at = :now, status_changed_by = 'bench', version = version + 1"
            " WHERE workspace_id = :ws AND id IN (SELECT id FROM t_due)"
        ),
        p,
    )
    for where in (
        "UPDATE credentials SET revoked_at = :now WHERE workspace_id = :ws"
        " AND kind IN ('session', 'api_session') AND revoked_at IS NULL",
        "UPDATE credentials SET revoked_at = :now WHERE workspace_id = :ws"
        " AND kind NOT IN ('session', 'api_session') AND revoked_at IS NULL",
    ):
        conn.execute(text(where + " AND user_id IN (SELECT id FROM t_due)"), p)
    conn.execute(
        text(
            "UPDATE invitations SET revoked_at = :now WHERE workspace_id = :ws"
            " AND accepted_at IS NULL AND revoked_at IS NULL"
            " AND invited_by IN (SELECT id FROM t_due)"
        ),
        p,
    )
    conn.execute(
        text(
            "UPDATE automation_rules SET enabled = false WHERE workspace_id = :ws"
            " AND enabled = true AND owner_user_id IN (SELECT id FROM t_due)"
        ),
        p,
    )
    conn.execute(
        text(
            "UPDATE user_counts SET active = active - :n, inactive = inactive + :n,"
            " audit_seq = audit_seq + :n WHERE workspace_id = :ws"
        ),
        p | {"n": n},
    )
    conn.execute(
        text(
            "UPDATE automation_runs SET state = 'succeeded', matched = :n, applied = :n,"
            " active_delta = -:n, finished_at = :now WHERE workspace_id = :ws AND id = :run"
        ),
        p | {"n": n},
    )
    return int(n)


SHARED: dict[str, float] = {}
"""Seconds the first run spent in the writer it shares with bulk actions."""


def _timed(name: str, f: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return f(*args, **kwargs)
        finally:
            SHARED[name] = SHARED.get(name, 0.0) + time.perf_counter() - started

    return timed


def sweep(c: Container, ws: str, now: datetime) -> tuple[float, Run, float, Run]:
    rule = auto.create_rule(
        c.uow(),
        workspace_id=ws,
        data=dormant_template(DAYS),
        route=Route.CLI,
        created_by=ACTOR,
        now=now,
    )
    clock = lambda: now  # noqa: E731 - the run judges "90 days" at one instant
    names = vars(auto)  # the run's module: its own name for the shared writer, timed
    shared = names["apply_changes"]
    names["apply_changes"] = _timed("apply_changes", shared)  # a hundred calls: no cost
    started = time.perf_counter()
    try:
        first = auto.start_run(
            c.uow(), workspace_id=ws, rule_id=rule.id, dry_run=False, clock=clock, tuning=c.jobs
        )
    finally:
        names["apply_changes"] = shared
    took = time.perf_counter() - started
    started = time.perf_counter()
    again = auto.start_run(
        c.uow(), workspace_id=ws, rule_id=rule.id, dry_run=False, clock=clock, tuning=c.jobs
    )
    return took, first, time.perf_counter() - started, again


def _cpu(since: os.times_result) -> str:
    """This process's CPU since `since`, user and system (SQLite's page reads and
    writes are system time; its work on pages and ours are user time)."""
    now = os.times()
    return f"; CPU user {now.user - since.user:.2f} s, sys {now.system - since.system:.2f} s"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--rounds", type=int, choices=range(1, 6), default=3)
    parser.add_argument(
        "--same-file", action="store_true",
        help="SQLite: run both contenders in this process on the one seeded file, in turn",
    )  # fmt: skip
    parser.add_argument("--child", choices=("raw", "rule"), help=argparse.SUPPRESS)
    parser.add_argument("--workspace", help=argparse.SUPPRESS)
    parser.add_argument("--rule", help=argparse.SUPPRESS)
    parser.add_argument("--now", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    if args.child:
        _child(args)
        return
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    engine = make_engine(url)
    upgrade(engine)
    c = Container(settings=Settings(database_url=url), engine=engine)
    now = datetime.now(UTC)
    print(f"{engine.dialect.name}: seeding 2 x {args.users:,} users ({args.due:,} dormant each)")
    t = time.perf_counter()
    ours, theirs = seed(c, args.users, args.due, now), seed(c, args.users, args.due, now)
    print(f"  seeded in {time.perf_counter() - t:.1f} s", flush=True)
    engine.dispose()  # no pooled connection keeps a plan prepared before ANALYZE
    baseline_rule = auto.create_rule(
        c.uow(),
        workspace_id=theirs,
        data=dormant_template(DAYS),
        route=Route.CLI,
        created_by=ACTOR,
        now=now,
    )
    size = c.jobs.chunk
    fresh = engine.dialect.name == "sqlite" and not args.same_file
    if not fresh:
        raw, rule = _raw_result(engine, theirs, baseline_rule.id, now), _rule_result(c, ours, now)
        _print_round(raw, rule, size, args.due)
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    engine.dispose()
    rounds = []
    for r in range(args.rounds):
        order = ("raw", "rule") if r % 2 == 0 else ("rule", "raw")
        got = {
            kind: _fresh(url, kind, args, ours if kind == "rule" else theirs, baseline_rule.id, now)
            for kind in order
        }
        print(f" round {r + 1} ({' first, '.join(order)} second;"
              f" load average {os.getloadavg()[0]:.1f} at its end):")  # fmt: skip
        _print_round(got["raw"], got["rule"], size, args.due)
        rounds.append(got)
    if args.rounds > 1:
        best_raw = min(g["raw"]["seconds"] for g in rounds)
        best_rule = min(g["rule"]["seconds"] for g in rounds)
        print(f" best of {args.rounds} rounds (each contender in a new process on a new copy):"
              f" raw {best_raw:.2f} s, rule run {best_rule:.2f} s,"
              f" ratio {best_rule / best_raw:.2f} x (target <= 1.5 x)")  # fmt: skip


def _raw_result(engine: Engine, ws: str, rule_id: str, now: datetime) -> dict[str, Any]:
    cpu = os.times()
    seconds, n = raw_sweep(engine, ws, rule_id, now)
    return {"seconds": seconds, "users": n, "cpu": _cpu(cpu)}


def _rule_result(c: Container, ws: str, now: datetime) -> dict[str, Any]:
    cpu = os.times()
    took, first, again_s, again = sweep(c, ws, now)
    return {
        "seconds": took, "applied": first.applied, "again_seconds": again_s,
        "again_applied": again.applied, "cpu": _cpu(cpu),
        "apply_changes": SHARED.get("apply_changes", 0.0),
    }  # fmt: skip


def _child(args: argparse.Namespace) -> None:
    """`--child raw|rule`: one contender on `--database-url`, its result printed last."""
    engine = make_engine(args.database_url)
    c = Container(settings=Settings(database_url=args.database_url), engine=engine)
    now = datetime.fromisoformat(args.now)
    if args.child == "raw":
        out = _raw_result(engine, args.workspace, args.rule, now)
    else:
        out = _rule_result(c, args.workspace, now)
    print(json.dumps(out))


def _fresh(
    url: str, kind: str, args: argparse.Namespace, ws: str, rule_id: str, now: datetime
) -> dict[str, Any]:
    """`kind` in a new process on a new copy of the seeded SQLite file, written out
    to the disk before it starts (so neither pays the other's copy)."""
    copy = fresh_copy(url)
    child = [
        sys.executable, "-m", "bench.bench_automations", "--child", kind,
        "--database-url", copy, "--workspace", ws, "--rule", rule_id,
        "--now", now.isoformat(),
    ]  # fmt: skip
    done = subprocess.run(child, check=True, capture_output=True, text=True)  # noqa: S603
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _print_round(raw: dict[str, Any], rule: dict[str, Any], size: int, due: int) -> None:
    assert rule["applied"] == due == raw["users"], (rule, raw)
    assert rule["again_applied"] == 0, rule
    took, raw_s = rule["seconds"], raw["seconds"]
    users, cpu = f"{raw['users']:,}", raw["cpu"]
    print(f"  raw set-based SQL, one transaction : {raw_s:8.2f} s  ({users} users{cpu})")
    print(
        f"  roster rule run (chunks of {size})  : {took:8.2f} s  ({rule['applied']:,} applied"
        f"{rule['cpu']}; both runs of the rule)"
    )
    applying = rule["apply_changes"]
    print(f"  of which in apply_changes          : {applying:8.2f} s  ({applying / took:.0%})")
    print(f"  ratio roster / raw                 : {took / raw_s:8.2f} x  (target <= 1.5 x)")
    print(f"  second run of the rule             : {rule['again_seconds']:8.2f} s"
          f"  ({rule['again_applied']} applied)", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
