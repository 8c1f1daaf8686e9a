"""The CI profile of the stress run: several real servers on PostgreSQL, every route
at once, a server SIGKILLed and restarted mid-run, then the checker.

ROSTER_STRESS_SECONDS sets the length (CI: 30 s; `make stress`: 300 s).
ROSTER_STRESS_PG_RESTART=1 also restarts PostgreSQL itself mid-run.
"""

import asyncio
import os
import subprocess
import threading
import time

from roster.bootstrap import Container
from tests import tally
from tests.stress import checker
from tests.stress.driver import Record, build_world, drive
from tests.stress.servers import Server, start_servers

SECONDS = float(os.environ.get("ROSTER_STRESS_SECONDS", "30"))
SERVERS = int(os.environ.get("ROSTER_STRESS_SERVERS", "2"))
CONCURRENCY = int(os.environ.get("ROSTER_STRESS_CONCURRENCY", "12"))


def restart_postgresql() -> None:
    version = os.listdir("/etc/postgresql")[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
    )


def inject_faults(servers: list[Server], record: Record) -> None:
    time.sleep(SECONDS / 3)
    servers[0].kill()
    record.faults.append("SIGKILL roster serve")
    servers[0].start()
    if os.environ.get("ROSTER_STRESS_PG_RESTART") == "1":
        time.sleep(SECONDS / 3)
        restart_postgresql()
        record.faults.append("restart PostgreSQL")


def test_the_rules_hold_under_load_and_faults(pg_container: Container) -> None:
    world = build_world(pg_container)
    servers = start_servers(pg_container.settings.database_url, SERVERS)
    record = Record()
    faults = threading.Thread(target=inject_faults, args=(servers, record))
    try:
        faults.start()
        seen = asyncio.run(drive(world, [s.url for s in servers], SECONDS, CONCURRENCY, seed=7))
        faults.join()
        seen.faults = record.faults
    finally:
        for s in servers:
            s.stop()
    pg_container.engine.dispose()  # connections from before a database restart are gone
    with pg_container.engine.connect() as conn:
        violations = checker.check(conn, world.tenant.id, seen)
    total = sum(seen.ops.values())
    refusals = sum(seen.refused.values())
    print(
        f"\nstress: {total} operations tried, {refusals} refused, "
        f"{len(seen.server_errors)} errors, p99 {seen.p99_ms():.0f} ms, "
        f"{len(seen.faults)} faults injected ({', '.join(seen.faults)}), "
        f"{len(violations)} violations found"
    )
    tally.add(operations=total, faults=len(seen.faults), violations=len(violations))
    assert violations == []
    assert seen.applied["admin_api"] > 0
    assert seen.refused[("automation", "user_blocked")] > 0
