"""SIGTERM: a worker hands its bulk job back and another finishes it; the server
stops cleanly; `roster serve --no-background` and `roster worker` split the work."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from roster.adapters.tables import bulk_jobs
from roster.bootstrap import Container
from tests.conftest import new_tenant
from tests.integration.test_bulk_crash import (
    USERS,
    assert_each_member_changed_exactly_once,
    current,
    queue,
    seed_members,
)

ROSTER = str(Path(sys.executable).with_name("roster"))


def roster(url: str, *args: str, **env: str) -> subprocess.Popen[str]:
    settings = {"ROSTER_DATABASE_URL": url, "ROSTER_JOB_LEASE_SECONDS": "600"}
    return subprocess.Popen(
        [ROSTER, *args],
        env=os.environ | settings | env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    return process.returncode, out + err


def lease_of(container: Container, job_id: str) -> object:
    with container.engine.connect() as conn:
        return conn.scalar(select(bulk_jobs.c.lease_until).where(bulk_jobs.c.id == job_id))


def test_sigterm_hands_a_bulk_job_back_and_a_second_worker_finishes_it(
    pg_container: Container,
) -> None:
    tenant = new_tenant(pg_container)
    seed_members(pg_container, tenant, USERS)
    job = queue(pg_container, tenant)
    url = pg_container.settings.database_url
    chunks = {"ROSTER_JOB_CHUNK_SIZE": "4"}
    first = roster(url, "worker", "--interval", "0.05", **chunks)
    deadline = time.monotonic() + 60
    while current(pg_container, tenant, job).processed < USERS // 4:
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline, "the worker made no progress"
        time.sleep(0.005)
    code, said = stop(first)
    assert code == 0, said
    steps = [json.loads(line) for line in said.splitlines() if '"roster.jobs"' in line]
    assert steps, said  # one JSON line per chunk, naming the job
    assert job.id in {step["job"] for step in steps}
    stopped = current(pg_container, tenant, job)
    assert stopped.processed < USERS, "the job ended before the signal: make it longer"
    # Handed back: with a 600-second lease, a second worker only goes on at once if so.
    assert lease_of(pg_container, job.id) is None

    second = roster(url, "worker", "--interval", "0.05")
    deadline = time.monotonic() + 60
    while current(pg_container, tenant, job).state != "done":
        assert second.poll() is None, second.communicate()
        assert time.monotonic() < deadline, "the second worker did not finish the job"
        time.sleep(0.05)
    assert stop(second)[0] == 0
    assert_each_member_changed_exactly_once(pg_container, tenant, job)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[str]) -> httpx.Response:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"nothing answered at {url}")


def test_the_web_only_server_serves_metrics_apart_and_exits_0_on_sigterm(
    pg_container: Container,
) -> None:
    web, metrics = free_port(), free_port()
    url = pg_container.settings.database_url
    args = ("serve", "--no-background", "--port", str(web), "--workers", "2")
    server = roster(url, *args, ROSTER_METRICS_PORT=str(metrics))
    try:
        assert wait_ready(f"http://127.0.0.1:{web}/readyz", server).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{web}/metrics").status_code == 404
        for _ in range(4):
            httpx.get(f"http://127.0.0.1:{web}/healthz")
        scraped = httpx.get(f"http://127.0.0.1:{metrics}/metrics").text
        healthz = [
            line for line in scraped.splitlines() if line.startswith("roster_http_requests_total")
        ]
        assert any('route="/healthz"' in line and line.endswith(" 4.0") for line in healthz)
    finally:
        code, said = stop(server)
    assert code == 0, said


def test_the_socket_several_workers_share_names_tcp_so_answers_are_not_delayed() -> None:
    # asyncio sets TCP_NODELAY only on connections of a socket whose protocol is TCP;
    # without it each answer waits for the client's delayed ACK (~40 ms).
    from roster.entrypoints.cli.serve import tcp_socket

    with tcp_socket("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.get_inheritable()
