"""Block 100,000 of 1,000,000 users with a bulk job, next to the best raw SQL doing
the same writes, on one seeded database; meanwhile a real server answers
authenticated requests, and we report their latency and any error.

Run: .venv/bin/python -m bench.bench_bulk [--users 1000000] [--target 100000]
     [--database-url URL] [--chunk N (default: the job's own)] [--rounds 1-3]
     [--no-requests] [--same-file]

On SQLite (unless --same-file) each contender runs in a new process on a new copy
of the seeded file, under the same request load (a server on that copy and its
client): no contender inherits another's audit rows, page cache, WAL or heap, and
the raw SQL faces the load the job does. (Run in turn on one file, the raw
statement grew from ~9 to ~15 s as earlier contenders' audit rows piled up, while
the job did not, so "best of N" compared the raw SQL on the emptiest file.) On
PostgreSQL, and with --same-file, the contenders run in this process in turn on
the one database, and only the job runs under the request load.

Every run seeds a fresh workspace. Three disjoint sets of `target` Active users
(user i with i % 10 == 0, 1, 2; in round r of `--rounds`, 3r, 3r + 1, 3r + 2) are
blocked, each by one contender (with several rounds, the best time of each counts):
- `raw, one statement each`: set-based INSERT … SELECT / UPDATE over the list of
  target ids, all in one transaction;
- `raw, PK-ordered chunks`: the same statements per chunk of `--chunk` ids, one
  transaction per chunk (what a careful hand-written job does);
- `roster bulk job`: `start_job` (ids stored) + `run_job`, through the domain.
All three write the same rows: the status columns, one audit event per user (the
raw SQL leaves `hash` empty: chaining needs the previous row, so it is not
expressible set-based), the notice queued for each user's email, the revocation
UPDATEs (sessions, tokens, invitations, personal automations), the counter, one
per-user result row and the job row.
Both raw contenders take the ids as one bound value (`json_each` on SQLite, an
array on PostgreSQL), as the job's writer does, and look users up by primary key.
"""

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, text, update

from bench import seed as seeding
from bench.fresh_copy import fresh_copy
from bench.seed import user_id
from roster.adapters.database import WRITE, make_engine
from roster.adapters.migrator import upgrade
from roster.adapters.tables import bulk_jobs, user_counts
from roster.adapters.unit_of_work import SqlUnitOfWork
from roster.bootstrap import Container
from roster.config import Settings
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Route, Status
from roster.services import bulk
from roster.services.access import create_token

WS, JOB = "CAST(:ws AS VARCHAR(40))", "CAST(:job AS VARCHAR(40))"  # typed for PostgreSQL
ACTOR = Actor(id=None, name="bench")


# --- Seeding -----------------------------------------------------------------------


def seed(c: Container, n: int) -> tuple[str, str, str]:
    """A workspace with an owner and `n` Active members; (workspace id, slug, owner id)."""
    ws = seeding.workspace(c, n)
    return ws.id, ws.slug, ws.owner_id


def _sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def targets(n: int, target: int, residue: int) -> list[str]:
    return [user_id(i) for i in range(residue, n, 10)][:target]


# --- The raw SQL contender -----------------------------------------------------------


def raw_job(conn: Connection, ws: str, ids: list[str], now: datetime) -> str:
    job_id = f"blk_raw{secrets.token_hex(8)}"
    conn.execute(
        insert(bulk_jobs).values(
            workspace_id=ws, id=job_id, fingerprint="", state="running", dry_run=False,
            to_status="blocked", reason_code="payment_dispute", note=None, selection={},
            actor_id=None, actor_name="bench", actor_user_id=None, total=len(ids),
            processed=0, applied=0, unchanged=0, refused=0, refused_codes={},
            active_delta=0, owners_delta=0, revoked_sessions=0, revoked_tokens=0,
            revoked_invitations=0, chunks=0, created_at=now,
        )
    )  # fmt: skip
    return job_id


def id_list(conn: Connection) -> str:
    """The ids of `:ids` (one bound value) as rows of `id`: the same one-parameter
    shape the roster job uses, so neither side pays for a temporary table."""
    if conn.dialect.name == "sqlite":
        return "SELECT value AS id FROM json_each(:ids)"
    return "SELECT unnest(CAST(:ids AS VARCHAR[])) AS id"


def raw_block(conn: Connection, ws: str, job_id: str, ids: list[str], now: datetime) -> None:
    """Block `ids` (all Active) with the same writes as the job, set-based: one
    statement per table, driven by the id list (PK lookups, no table scan)."""
    sqlite = conn.dialect.name == "sqlite"
    listed = id_list(conn)
    rand = "lower(hex(randomblob(12)))" if sqlite else "md5(random()::text)"
    stamp = now.replace(tzinfo=None) if sqlite else now
    p = {
        "ws": ws,
        "now": stamp,
        "job": job_id,
        "n": len(ids),
        "ids": json.dumps(ids) if sqlite else ids,
    }
    seq = conn.execute(
        text("SELECT audit_seq FROM user_counts WHERE workspace_id = :ws"), p
    ).scalar_one()
    conn.execute(
        text(
            "INSERT INTO audit_events (workspace_id, id, seq, user_id, from_status, to_status,"
            " route, actor_id, actor_name, reason_code, note, request_id, batch_id, at, outcome,"
            " hash)"
            f" SELECT {WS}, 'evt_' || {rand}, :seq + row_number() OVER (ORDER BY u.id), u.id,"
            " u.status, 'blocked', 'bulk', NULL, 'bench', 'payment_dispute', NULL, NULL,"
            f" {JOB},"
            " :now, 'applied', ''"
            f" FROM users u WHERE u.workspace_id = :ws AND u.id IN ({listed})"
            " AND u.status = 'active'"
        ),
        p | {"seq": seq},
    )
    conn.execute(
        text(
            "INSERT INTO bulk_results (workspace_id, job_id, user_id, outcome, code, from_status)"
            f" SELECT {WS}, {JOB}, t.id, 'applied', NULL, 'active' FROM ({listed}) t"
        ),
        p,
    )
    # The notice each blocked user is sent (the workspace notifies by default): one
    # queued row whose context the templates fill in when it is sent.
    context = (
        "json_object('name', u.name, 'workspace', w.name, 'status', 'blocked',"
        " 'reason', 'a payment dispute')"
        if sqlite
        else "json_build_object('name', u.name, 'workspace', w.name, 'status', 'blocked',"
        " 'reason', 'a payment dispute')"
    )
    conn.execute(
        text(
            "INSERT INTO emails (workspace_id, id, message_key, kind, to_address, subject,"
            " context, status, attempts, created_at)"
            f" SELECT {WS}, 'eml_' || {rand}, 'status_notice.' || u.id, 'status_notice',"
            " u.email, 'Your ' || w.name || ' account has been blocked', "
            f"{context}, 'queued', 0, :now"
            " FROM users u JOIN workspaces w ON w.id = u.workspace_id"
            f" WHERE u.workspace_id = :ws AND u.id IN ({listed}) AND u.status = 'active'"
        ),
        p,
    )
    conn.execute(
        text(
            "UPDATE users SET status = 'blocked', status_reason = 'payment_dispute',"
            " status_note = NULL, status_changed_at = :now, status_changed_by = 'bench',"
            " version = version + 1"
            f" WHERE workspace_id = :ws AND status = 'active' AND id IN ({listed})"
        ),
        p,
    )
    for kinds in ("IN", "NOT IN"):
        conn.execute(
            text(
                "UPDATE credentials SET revoked_at = :now WHERE workspace_id = :ws"
                f" AND kind {kinds} ('session', 'api_session') AND revoked_at IS NULL"
                f" AND user_id IN ({listed})"
            ),
            p,
        )
    conn.execute(
        text(
            "UPDATE invitations SET revoked_at = :now WHERE workspace_id = :ws"
            " AND accepted_at IS NULL AND revoked_at IS NULL"
            f" AND invited_by IN ({listed})"
        ),
        p,
    )
    conn.execute(
        text(
            "UPDATE automation_rules SET enabled = false WHERE workspace_id = :ws"
            f" AND enabled = true AND owner_user_id IN ({listed})"
        ),
        p,
    )
    conn.execute(
        update(user_counts)
        .where(user_counts.c.workspace_id == ws)
        .values(
            active=user_counts.c.active - len(ids),
            blocked=user_counts.c.blocked + len(ids),
            audit_seq=user_counts.c.audit_seq + len(ids),
        )
    )
    conn.execute(
        text(
            "UPDATE bulk_jobs SET processed = processed + :n, applied = applied + :n,"
            " cursor = :last WHERE workspace_id = :ws AND id = :job"
        ),
        p | {"last": ids[-1]},
    )


def raw_one_statement(engine: Engine, ws: str, ids: list[str]) -> float:
    started = time.perf_counter()
    with engine.execution_options(**WRITE).begin() as conn:
        now = datetime.now(UTC)
        raw_block(conn, ws, raw_job(conn, ws, ids, now), ids, now)
    return time.perf_counter() - started


def raw_chunks(engine: Engine, ws: str, ids: list[str], chunk: int) -> float:
    started = time.perf_counter()
    writer = engine.execution_options(**WRITE)
    with writer.begin() as conn:
        job_id = raw_job(conn, ws, ids, datetime.now(UTC))
    for start in range(0, len(ids), chunk):
        with writer.begin() as conn:
            raw_block(conn, ws, job_id, ids[start : start + chunk], datetime.now(UTC))
    return time.perf_counter() - started


def roster_job(c: Container, ws: str, ids: list[str], chunk: int) -> float:
    started = time.perf_counter()
    job, _ = bulk.start_job(
        c.uow(),
        workspace_id=ws,
        request=bulk.BulkRequest(
            Status.BLOCKED, user_ids=tuple(ids), reason_code=ReasonCode.PAYMENT_DISPUTE
        ),
        actor=ACTOR,
        now=c.clock(),
    )
    tuning = replace(c.jobs, chunk=chunk)
    done = bulk.run_job(c.uow, workspace_id=ws, job_id=job.id, clock=c.clock, tuning=tuning)
    elapsed = time.perf_counter() - started
    assert (done.state, done.tally.applied) == ("done", len(ids)), done
    return elapsed


# --- Requests during the job ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(url: str) -> Iterator[str]:
    port = _free_port()
    log = Path(tempfile.mkdtemp()) / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "uvicorn", "roster.entrypoints.web.app:create_app",
             "--factory", "--port", str(port), "--log-level", "warning"],
            env=os.environ | {"ROSTER_DATABASE_URL": url}, stdout=out, stderr=out,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(100):
        try:
            httpx.get(base + "/healthz", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    try:
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        text_log = log.read_text()
        if "database is locked" in text_log:
            print("SERVER LOG: 'database is locked' seen")


def load(base: str, token: str, victim: str, stop: Any, out: Any) -> None:
    """GET /me, and every 10th request a status PUT (a write), until `stop` is set."""
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        n = 0
        while not stop.is_set():
            n += 1
            started = time.perf_counter()
            if n % 10 == 0:
                to = "inactive" if n % 20 == 0 else "active"
                r = client.put(f"/api/v1/users/{victim}/status", json={"status": to})
            else:
                r = client.get("/api/v1/me")
            latencies.append(time.perf_counter() - started)
            if r.status_code >= 400:
                errors.append(f"{r.status_code} {r.text[:200]}")
            time.sleep(0.01)
    out.put((latencies, errors))


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else float("nan")


# --- Main ---------------------------------------------------------------------------


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--target", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=None, help="default: the job's own")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-requests", action="store_true")
    parser.add_argument("--rounds", type=int, choices=(1, 2, 3), default=1)
    parser.add_argument(
        "--same-file", action="store_true",
        help="SQLite: run every contender in this process on the one seeded file, in turn",
    )  # fmt: skip
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--workspace", help=argparse.SUPPRESS)
    parser.add_argument("--residue", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    if args.child:
        _child(args)
        return
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    engine = make_engine(url)
    upgrade(engine)
    c = Container(settings=Settings(database_url=url), engine=engine)
    args.chunk = args.chunk or c.jobs.chunk
    print(f"{engine.dialect.name}: seeding {args.users:,} users ...", flush=True)
    started = time.perf_counter()
    ws, _, owner = seed(c, args.users)
    print(f"  seeded in {time.perf_counter() - started:.1f} s", flush=True)
    engine.dispose()  # no pooled connection keeps a plan prepared before ANALYZE
    victim = user_id(args.users - 1)  # not in any target set (i % 10 == 9)

    _, token = create_token(
        SqlUnitOfWork(engine), workspace_id=ws, kind=CredentialKind.PERSONAL, name="bench",
        user_id=owner,
        now=c.clock() - timedelta(seconds=1), route=Route.CLI, actor=Actor(None, "bench"),
    )  # fmt: skip
    fresh = _sqlite(engine) and not args.same_file
    if fresh:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        engine.dispose()
    runs: list[dict[str, float]] = []
    latencies: dict[str, list[float]] = {kind: [] for kind in CONTENDERS}
    errors: list[str] = []
    for r in range(args.rounds):
        # Round r blocks users i % 10 == 3r (roster), 3r + 1 (one statement) and 3r + 2
        # (chunks); odd rounds run the job first, so neither side always runs first.
        order = CONTENDERS if r % 2 == 0 else (*CONTENDERS[2:], *CONTENDERS[:2])
        times: dict[str, float] = {}
        for kind in order:
            residue = 3 * r + CONTENDERS.index(kind)
            if fresh:
                seconds, lat, err = _fresh(url, ws, args, kind, residue, token, victim)
                latencies[kind] += lat
                errors += err
            elif kind == "roster":
                seconds, lat, err = _with_requests(c, url, ws, args, token, victim, residue)
                latencies[kind] += lat
                errors += err
            else:
                seconds = _contend(kind, engine, c, ws, args, residue)
            times[kind] = seconds
        runs.append(times | {"load": os.getloadavg()[0]})

    _report(args, engine.dialect.name, fresh, runs, latencies, errors)


def _report(
    args: argparse.Namespace,
    dialect: str,
    fresh: bool,
    runs: list[dict[str, float]],
    latencies: dict[str, list[float]],
    errors: list[str],
) -> None:
    how = "each contender in a fresh process on a fresh copy of the seeded file" if fresh else (
        "one process, one database, contenders in turn")  # fmt: skip
    load_note = "no requests" if args.no_requests else (
        "requests during every contender" if fresh else "requests during the job only")  # fmt: skip
    print(f"\nBlock {args.target:,} of {args.users:,} users ({dialect}, "
          f"chunks of {args.chunk}; {how}; {load_note}):")  # fmt: skip
    for r, times in enumerate(runs):
        one, chunked, ours = (times[k] for k in CONTENDERS)
        if args.rounds > 1:
            print(f" round {r + 1} (load average {times['load']:.1f} at its end):")
        print(f"  raw SQL, one statement each, one transaction  {one:8.2f} s")
        print(f"  raw SQL, PK-ordered chunks                    {chunked:8.2f} s")
        print(f"  roster bulk job (start_job + run_job)         {ours:8.2f} s")
        print(f"  ratio to the best raw SQL                     {ours / min(one, chunked):8.2f} x")
    if args.rounds > 1:
        best = min(min(t["one"], t["chunks"]) for t in runs)
        ours = min(t["roster"] for t in runs)
        print(f" best of {args.rounds} rounds: raw {best:.2f} s, roster {ours:.2f} s, "
              f"ratio {ours / best:.2f} x")  # fmt: skip
    for kind, lat in latencies.items():
        if lat:
            print(
                f"  requests during {NAMES[kind]}: {len(lat)}, p50 "
                f"{statistics.median(lat) * 1000:.1f} ms, p99 {p99(lat) * 1000:.1f} ms"
            )
    if any(latencies.values()):
        print(f"  request errors: {len(errors)}")
        for e in errors[:5]:
            print("    ", e)


CONTENDERS = ("one", "chunks", "roster")
NAMES = {"one": "raw SQL, one statement", "chunks": "raw SQL, PK chunks", "roster": "the job"}


def _contend(
    kind: str, engine: Engine, c: Container, ws: str, args: argparse.Namespace, residue: int
) -> float:
    """One contender's seconds, run here."""
    ids = targets(args.users, args.target, residue)
    if kind == "one":
        return raw_one_statement(engine, ws, ids)
    if kind == "chunks":
        return raw_chunks(engine, ws, ids, args.chunk)
    return roster_job(c, ws, ids, args.chunk)


def _child(args: argparse.Namespace) -> None:
    """`--child KIND`: one contender on `--database-url`, its seconds printed last."""
    engine = make_engine(args.database_url)
    c = Container(settings=Settings(database_url=args.database_url), engine=engine)
    seconds = _contend(args.child, engine, c, args.workspace, args, args.residue)
    print(json.dumps({"seconds": seconds}))


def _fresh(
    url: str,
    ws: str,
    args: argparse.Namespace,
    kind: str,
    residue: int,
    token: str,
    victim: str,
) -> tuple[float, list[float], list[str]]:
    """`kind` in a new process on a new copy of the seeded SQLite file (so no
    contender inherits another's audit rows, page cache or heap), under the same
    request load as every other contender unless --no-requests."""
    copy_url = fresh_copy(url)
    child = [
        sys.executable, "-m", "bench.bench_bulk", "--child", kind, "--database-url", copy_url,
        "--workspace", ws, "--residue", str(residue), "--users", str(args.users),
        "--target", str(args.target), "--chunk", str(args.chunk),
    ]  # fmt: skip
    with contextlib.ExitStack() as stack:
        if not args.no_requests:
            base = stack.enter_context(server(copy_url))
            stop, out = mp.Event(), mp.Queue()  # type: ignore[var-annotated]
            client = mp.Process(target=load, args=(base, token, victim, stop, out))
            client.start()
            time.sleep(1)
        done = subprocess.run(child, check=True, capture_output=True, text=True)  # noqa: S603
        seconds = float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])
        if args.no_requests:
            return seconds, [], []
        stop.set()
        latencies, errors = out.get(timeout=120)
        client.join()
    return seconds, latencies, errors


def _with_requests(
    c: Container,
    url: str,
    ws: str,
    args: argparse.Namespace,
    token: str,
    victim: str,
    residue: int,
) -> tuple[float, list[float], list[str]]:
    ids = targets(args.users, args.target, residue)
    if args.no_requests:
        return roster_job(c, ws, ids, args.chunk), [], []
    with server(url) as base:
        stop, out = mp.Event(), mp.Queue()  # type: ignore[var-annotated]
        client = mp.Process(target=load, args=(base, token, victim, stop, out))
        client.start()
        time.sleep(1)
        ours = roster_job(c, ws, ids, args.chunk)
        stop.set()
        latencies, errors = out.get(timeout=120)
        client.join()
    return ours, latencies, errors


if __name__ == "__main__":
    main()
