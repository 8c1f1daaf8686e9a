"""Throughput as server processes are added: `roster serve --workers N` for N = 1, 2
and 4 behind one port on one PostgreSQL, under a mixed load: 90% GET /api/v1/me over
rotating personal tokens, 10% status changes by the API (PUT /users/{id}/status,
Active ↔ Inactive on random members).

Run: .venv/bin/python -m bench.bench_scale [--seconds 5] [--users 2000] [--tokens 50]
        [--workers 1,2,4] [--connections 8] [--server-cpus 0,1] [--client-cpus 1]
Needs `wrk` (apt-get install wrk) and PostgreSQL at ROSTER_TEST_POSTGRES_URL (a
scratch database is made and dropped). Bounded: at most 10,000 users and 60 seconds
per N, on 127.0.0.1 only. Prints, for each N, requests per second, p50 and p99
latency, errors (socket errors and non-2xx answers), the speedup over N=1 and the
efficiency (speedup / N). Target: >= 1.6x at N=2 with the load generator pinned
apart from the servers (--server-cpus, --client-cpus) on a machine with the cores.

It also prints where the machine's CPU went during each timed run, in milliseconds
per request: the Roster processes, PostgreSQL's and wrk. With the cores saturated,
N servers can at best reach N x s / (s + p + w) of one server's throughput (s, p, w:
the three per-request costs), which is what a two-core machine caps N=2 at.
"""

import argparse
import contextlib
import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import seed
from bench.access_servers import scratch_database

ROSTER = str(Path(sys.executable).with_name("roster"))
MAX_USERS, MAX_SECONDS = 10_000, 60

# wrk's Lua: each request takes the next token; a share `writes` (one in ten by
# default) are status changes of a random member. done() prints the summary as one JSON line.
SCRIPT = """
tokens = %(tokens)s
members = %(members)s
i = 0
math.randomseed(7)
request = function()
  i = i %% #tokens + 1
  local headers = {["Authorization"] = "Bearer " .. tokens[i]}
  if math.random() < %(writes)s then
    headers["Content-Type"] = "application/json"
    local status = (math.random(2) == 1) and "inactive" or "active"
    local path = "/api/v1/users/" .. members[math.random(#members)] .. "/status"
    return wrk.format("PUT", path, headers, '{"status": "' .. status .. '"}')
  end
  return wrk.format("GET", "/api/v1/me", headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "micros": %%d, "p50": %%d, "p99": %%d, "socket": %%d, "status": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass(frozen=True)
class Figures:
    workers: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: dict[str, float]  # CPU milliseconds per request: roster, postgres, wrk


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(root: int) -> dict[str, float]:
    """CPU seconds used so far by the process tree under `root` (the servers) and by
    PostgreSQL's processes, read from /proc."""
    parents: dict[int, int] = {}
    used: dict[int, tuple[str, float]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        used[pid] = (name, (int(fields[11]) + int(fields[12])) / TICK)
    out = {"roster": 0.0, "postgres": 0.0}
    for pid, (name, seconds) in used.items():
        ancestor = pid
        while ancestor > 1 and ancestor != root:
            ancestor = parents.get(ancestor, 1)
        if ancestor == root:
            out["roster"] += seconds
        elif name == "postgres":
            out["postgres"] += seconds
    return out


def children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def seed_workspace(url: str, users: int, tokens: int) -> tuple[list[str], list[str]]:
    """A workspace of `users` Active members; `tokens` personal tokens of its owner."""
    c = seed.container(url)
    ws = seed.workspace(c, users)
    print(ws.said(c), flush=True)
    secrets = [seed.token(c, ws) for _ in range(tokens)]
    seed.settle(c.engine)
    return secrets, [seed.user_id(i) for i in range(users)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pinned(cpus: str | None, args: list[str]) -> list[str]:
    return ["taskset", "-c", cpus, *args] if cpus else args


@contextlib.contextmanager
def roster_serve(
    url: str, workers: int, cpus: str | None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`roster serve --no-background --workers N` on 127.0.0.1, until the block ends."""
    port = free_port()
    env = os.environ | {"ROSTER_DATABASE_URL": url, "ROSTER_LOG_FORMAT": "json"}
    args = [ROSTER, "serve", "--no-background", "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(  # noqa: S603 - our own command and arguments
        pinned(cpus, args), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(f"roster serve exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{base} did not become ready")


def run_wrk(
    base: str, script: str, seconds: int, connections: int, cpus: str | None
) -> dict[str, int]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", lua.name, base]
    try:
        out = subprocess.run(  # noqa: S603 - wrk with our own arguments
            pinned(cpus, args), capture_output=True, text=True, check=True
        ).stdout
    finally:
        Path(lua.name).unlink()
    summary: dict[str, int] = json.loads(out.strip().splitlines()[-1])
    return summary


def measure(url: str, workers: int, script: str, opts: argparse.Namespace) -> Figures:
    with roster_serve(url, workers, opts.server_cpus) as (base, proc):
        run_wrk(base, script, 1, opts.connections, opts.client_cpus)  # warm up
        before, wrk_before = cpu_seconds(proc.pid), children_seconds()
        s = run_wrk(base, script, opts.seconds, opts.connections, opts.client_cpus)
        after, wrk_after = cpu_seconds(proc.pid), children_seconds()
    rps = s["requests"] / (s["micros"] / 1e6)
    per = 1000 / s["requests"]
    cpu = {k: (after[k] - before[k]) * per for k in after} | {"wrk": (wrk_after - wrk_before) * per}
    return Figures(workers, rps, s["p50"] / 1000, s["p99"] / 1000, s["socket"] + s["status"], cpu)


def report(figures: list[Figures]) -> None:
    base = figures[0].rps
    head = ("N", "req/s", "p50 ms", "p99 ms", "errors", "speedup", "eff.", "CPU ms/request")
    print("{:>2} {:>8} {:>7} {:>7} {:>6} {:>8} {:>5}  {}".format(*head))
    for f in figures:
        speedup = f.rps / base
        cpu = ", ".join(f"{k} {v:.2f}" for k, v in f.cpu_ms.items())
        print(
            f"{f.workers:>2} {f.rps:>8.0f} {f.p50_ms:>7.1f} {f.p99_ms:>7.1f} {f.errors:>6}"
            f" {speedup:>7.2f}x {speedup / f.workers:>5.2f}  {cpu}"
        )
    one = figures[0].cpu_ms
    cores = os.cpu_count() or 1
    if one["roster"] > 0:
        cap = min(2, cores * one["roster"] / sum(one.values()))
        print(
            f"With the {cores} cores saturated, 2 servers can at best reach {cap:.2f}x of one"
            " (min(2, cores x s / (s + p + w)), from N=1's costs per request)."
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--tokens", type=int, default=50)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--writes", type=float, default=0.1, help="share of status changes")
    parser.add_argument("--server-cpus", default=None, help="taskset list for the servers")
    parser.add_argument("--client-cpus", default=None, help="taskset list for wrk")
    opts = parser.parse_args()
    if not (0 < opts.users <= MAX_USERS and 0 < opts.seconds <= MAX_SECONDS):
        parser.error(f"--users is 1..{MAX_USERS:,} and --seconds 1..{MAX_SECONDS}")
    counts = [int(n) for n in opts.workers.split(",")]
    with scratch_database("postgresql") as url:
        tokens, members = seed_workspace(url, opts.users, opts.tokens)
        random.Random(7).shuffle(members)
        script = SCRIPT % {
            "tokens": "{" + ", ".join(json.dumps(t) for t in tokens) + "}",
            "members": "{" + ", ".join(json.dumps(m) for m in members) + "}",
            "writes": opts.writes,
        }
        figures = [measure(url, n, script, opts) for n in counts]
    report(figures)


if __name__ == "__main__":
    main()
