"""Authenticated GET /api/v1/me per second, next to a bare Starlette endpoint doing
the same single indexed credential query, in one run, on one database.

Run: .venv/bin/python -m bench.bench_me [--seconds 8] [--connections 8]
         [--backends sqlite postgresql]
Needs `wrk` (apt-get install wrk). Both servers are one uvicorn worker on
127.0.0.1; each is measured twice, alternating, and the better run counts.
Target: ratio >= 0.5 on SQLite and on PostgreSQL.
"""

import argparse

from bench.access_servers import scratch_database, seed, server, wrk

ROSTER = "roster.entrypoints.web.app:create_app"
BARE = "bench.access_servers:create_bare"


def measure(backend: str, seconds: int, connections: int) -> tuple[float, float]:
    with scratch_database(backend) as url:
        _, token = seed(url)
        auth = {"Authorization": f"Bearer {token}"}
        best = {"roster": 0.0, "bare": 0.0}
        for _ in range(2):
            with server(BARE, url, 8931) as base:
                best["bare"] = max(
                    best["bare"],
                    wrk(base + "/me", seconds=seconds, connections=connections, headers=auth),
                )
            with server(ROSTER, url, 8932) as base:
                best["roster"] = max(
                    best["roster"],
                    wrk(
                        base + "/api/v1/me", seconds=seconds, connections=connections, headers=auth
                    ),
                )
        return best["roster"], best["bare"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    for backend in args.backends:
        roster, bare = measure(backend, args.seconds, args.connections)
        verdict = "meets" if roster / bare >= 0.5 else "MISSES"
        print(
            f"{backend:10}  GET /api/v1/me {roster:8.0f} req/s   bare Starlette {bare:8.0f} req/s"
            f"   ratio {roster / bare:.2f}x  ({verdict} the 0.5x target)"
        )


if __name__ == "__main__":
    main()
