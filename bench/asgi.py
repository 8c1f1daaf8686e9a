"""One GET straight into an ASGI app, for timing the app's own work; and the
timings and report lines the benchmarks that use it share.

No socket and no HTTP client: the request goes through every middleware, the
routing, the dependencies and the view exactly as under uvicorn, but the time of
a client building the request and parsing the answer (httpx adds about 0.4 ms a
request in-process) is not counted as the app's.
"""

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message


async def get(app: ASGIApp, target: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """GET `target` (a path with an optional query); the status and the body."""
    url = urlsplit(target)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": url.path,
        "raw_path": url.path.encode(),
        "query_string": url.query.encode(),
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            *((k.lower().encode(), v.encode()) for k, v in headers.items()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("bench", 80),
    }
    status = 0
    body: list[bytes] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(body)


@dataclass
class Timings:
    """One side of a benchmark (the app, or the raw queries): per call, the wall-clock
    time and the process's CPU time (all its threads: the worker thread's too), in ms.

    The CPU time is what the call costs whatever the machine's load; the wall-clock
    time adds the waits, among them those of a thread hop for a core on a loaded
    machine, which the raw queries (no hop) do not have."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @contextmanager
    def sample(self) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        self.cpu.append((time.process_time() - cpu) * 1000)
        self.wall.append((time.perf_counter() - wall) * 1000)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


def header(side: str) -> str:
    """The column heads of `line`; `side` names the app's column ("api", "page")."""
    heads = f"{side + ' p50':>9} {side + ' p95':>9} {'raw p50':>8} {'raw p95':>8}"
    return f"{'scenario':<20} {heads} p95 ratio (p50)  cpu p50 {side}/raw (ratio)"


def line(name: str, app: Timings, raw: Timings) -> str:
    """One scenario: wall-clock p50/p95 of each side and their ratios, then CPU p50s."""
    a, r = statistics.median(app.wall), statistics.median(raw.wall)
    ca, cr = statistics.median(app.cpu), statistics.median(raw.cpu)
    return (
        f"{name:<20} {a:8.2f}ms {p95(app.wall):8.2f}ms {r:7.2f}ms {p95(raw.wall):7.2f}ms "
        f"{p95(app.wall) / p95(raw.wall):5.2f}x ({a / r:.2f}x)     "
        f"{ca:.2f}/{cr:.2f}ms ({ca / cr:.2f}x)"
    )
