"""The stress run on PostgreSQL: several real `roster serve` processes, every route
at once on one shared set of users, a SIGKILL of every server in the middle of a
bulk job and an automation run, a PostgreSQL restart mid-traffic; then the checker.

Knobs (the CI profile is the default): ROSTER_STRESS_SECONDS (load time, 80),
ROSTER_STRESS_SERVERS (2), ROSTER_STRESS_CONCURRENCY (8 HTTP workers),
ROSTER_STRESS_BATCH_WORKERS (3), ROSTER_STRESS_USERS (shared members, 5000),
ROSTER_STRESS_PG_RESTART (1; 0 skips the PostgreSQL restart). `make stress` runs a longer profile.
"""

import asyncio
import os
import subprocess
import threading
import time

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError

from roster.adapters.tables import automation_runs, bulk_jobs
from roster.bootstrap import Container
from tests import conftest, tally
from tests.stress import checker
from tests.stress.driver import Record, build_world, create_rules, drive
from tests.stress.servers import Server, start_servers, unexpected_exceptions

SECONDS = float(os.environ.get("ROSTER_STRESS_SECONDS", "80"))
SERVERS = int(os.environ.get("ROSTER_STRESS_SERVERS", "2"))
CONCURRENCY = int(os.environ.get("ROSTER_STRESS_CONCURRENCY", "8"))
BATCHERS = int(os.environ.get("ROSTER_STRESS_BATCH_WORKERS", "3"))
USERS = int(os.environ.get("ROSTER_STRESS_USERS", "5000"))
PG_RESTART = os.environ.get("ROSTER_STRESS_PG_RESTART", "1") == "1"
LEASE_SECONDS = "5"  # a killed bulk action or automation run is taken over after this


def restart_postgresql() -> None:
    version = os.listdir("/etc/postgresql")[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
    )


def _busy(engine: Engine, workspace_id: str) -> tuple[int, int]:
    """(bulk jobs queued or running, automation runs running) in the workspace."""
    with engine.connect() as conn:
        jobs = conn.execute(
            select(func.count()).where(
                bulk_jobs.c.workspace_id == workspace_id,
                bulk_jobs.c.state.in_(["queued", "running"]),
            )
        ).scalar_one()
        runs = conn.execute(
            select(func.count()).where(
                automation_runs.c.workspace_id == workspace_id,
                automation_runs.c.state == "running",
            )
        ).scalar_one()
    return jobs, runs


def inject_faults(servers: list[Server], engine: Engine, workspace_id: str, record: Record) -> None:
    """Once per 80 s of load (at least once): SIGKILL every server while a bulk job
    and an automation run are in flight (waiting up to a third of the span for
    both), restart them; then restart PostgreSQL under traffic."""
    cycles = max(1, int(SECONDS // 80))
    span = SECONDS / cycles
    for _ in range(cycles):
        began = time.monotonic()
        time.sleep(span / 4)
        until = time.monotonic() + span / 3
        jobs = runs = 0
        while time.monotonic() < until:
            try:
                jobs, runs = _busy(engine, workspace_id)
            except DBAPIError:
                jobs = runs = 0
            if jobs and runs:
                break
            time.sleep(0.02)
        for s in servers:
            s.kill()
            record.faults.append(f"SIGKILL roster serve ({jobs} bulk jobs, {runs} runs in flight)")
        for s in servers:
            s.start()
        if PG_RESTART:
            time.sleep(max(0.0, span * 0.7 - (time.monotonic() - began)))
            restart_postgresql()
            record.faults.append("restart PostgreSQL")
        time.sleep(max(0.0, span - (time.monotonic() - began)))


def wait_until_idle(engine: Engine, workspace_id: str, timeout: float) -> tuple[int, int]:
    """Let the servers' background ticks finish (or resume) every job and run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if _busy(engine, workspace_id) == (0, 0):
                return (0, 0)
        except DBAPIError:  # PostgreSQL restarting
            pass
        time.sleep(0.5)
    return _busy(engine, workspace_id)


@pytest.mark.serial
def test_the_rules_hold_under_load_and_faults(pg_container: Container) -> None:
    started = time.monotonic()
    world = build_world(pg_container, members=USERS)
    servers = start_servers(
        pg_container.settings.database_url,
        SERVERS,
        env={"ROSTER_JOB_LEASE_SECONDS": LEASE_SECONDS},
    )
    seen = Record()
    try:
        create_rules(world, servers[0].url)
        faults = threading.Thread(
            target=inject_faults, args=(servers, pg_container.engine, world.tenant.id, seen)
        )
        faults.start()
        record = asyncio.run(
            drive(world, [s.url for s in servers], SECONDS, CONCURRENCY, BATCHERS, seed=7)
        )
        faults.join()
        record.faults = seen.faults
        left = wait_until_idle(pg_container.engine, world.tenant.id, timeout=120)
    finally:
        for s in servers:
            s.stop()
    # The test process's own pools held connections from before the restart.
    for engine in conftest._migrated.values():
        engine.dispose()
    with pg_container.engine.connect() as conn:
        violations, verified = checker.check(conn, world.tenant.id, record)
    violations += [f"server logged {e}" for e in unexpected_exceptions(servers)]
    if left != (0, 0):
        violations.append(f"{left[0]} bulk jobs and {left[1]} runs never finished")
    refusals = verified["refused"]
    routes = ", ".join(
        f"{k.removeprefix('route:')} {v}"
        for k, v in sorted(verified.items())
        if k.startswith("route:")
    )
    print(
        f"\nstress: {verified['operations']} operations ({verified['applied']} applied, "
        f"{refusals} refused; {verified['batched']} in {len(record.jobs)} bulk jobs and "
        f"{len(record.runs)} automation runs), {record.requests} HTTP requests, "
        f"{len(record.server_errors)} errors, p99 {record.p99_ms():.0f} ms, "
        f"{len(record.faults)} faults injected, {len(violations)} violations found "
        f"[{SERVERS} servers, {SECONDS:.0f} s load, {time.monotonic() - started:.0f} s in all]"
        f"\nstress by route: {routes}"
        f"\nstress driver time by operation: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in sorted(record.busy.items(), key=lambda kv: -kv[1]))
    )
    print(
        "stress answers: "
        + ", ".join(
            f"{r} {st}{' ' + c if c else ''}: {n}"
            for (r, st, c), n in sorted(record.answers.items())
        )
    )
    for line in violations[:20]:
        print(f"  violation: {line}")
    for line in record.server_errors[:10]:
        print(f"  error: {line}")
    tally.add(
        operations=verified["operations"], faults=len(record.faults), violations=len(violations)
    )
    assert violations == [], f"server logs: {[str(s.log) for s in servers]}"
    for s in servers:
        s.log.unlink()
    every_route = {
        "admin_profile", "admin_api", "bulk", "automation", "scim",
        "sign_in", "invitation", "upgrade", "cli",
    }  # fmt: skip
    assert every_route <= {k.removeprefix("route:") for k in verified}
    assert verified["user_blocked"] > 0  # Blocked users were tried, and refused
