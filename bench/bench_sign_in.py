"""Sign-ins per second (POST /api/v1/auth/sessions), next to raw Argon2id
verifications per second at the same parameters, in one run.

Run: .venv/bin/python -m bench.bench_sign_in [--seconds 8] [--backends sqlite postgresql]
Needs `wrk`. The server is one uvicorn worker on 127.0.0.1; the sign-in endpoint
is a sync route, so Argon2id runs in the thread pool, off the event loop (argon2-cffi
releases the GIL). Both sides run with as many concurrent workers as CPU cores:
wrk keeps that many connections open, and the baseline verifies in that many
threads. Target: ratio >= 0.85.
"""

import argparse
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

from bench import seed
from bench.access_servers import PASSWORD, scratch_database, server, wrk
from roster.adapters.passwords import hash_password, verify_password

ROSTER = "roster.entrypoints.web.app:create_app"


def raw_verifies(seconds: float, workers: int) -> float:
    """Argon2id verifications per second with `workers` threads (the same hasher)."""
    stored = hash_password(PASSWORD)
    deadline = time.perf_counter() + seconds

    def loop() -> int:
        n = 0
        while time.perf_counter() < deadline:
            assert verify_password(stored, PASSWORD)
            n += 1
        return n

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        done = sum(pool.map(lambda _: loop(), range(workers)))
    return done / (time.perf_counter() - start)


def sign_ins(backend: str, seconds: int, workers: int) -> float:
    with scratch_database(backend) as url:
        c = seed.container(url)
        ws = seed.workspace(c, 0, slug="bench", password=PASSWORD)
        c.engine.dispose()
        body = json.dumps({"workspace": ws.slug, "email": ws.owner_email, "password": PASSWORD})
        script = (
            'wrk.method = "POST"\n'
            f"wrk.body = '{body}'\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        with server(ROSTER, url, 8933) as base:
            return wrk(
                base + "/api/v1/auth/sessions", seconds=seconds, connections=workers, script=script
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    workers = os.cpu_count() or 1
    for backend in args.backends:
        raw = raw_verifies(args.seconds, workers)
        served = sign_ins(backend, args.seconds, workers)
        verdict = "meets" if served / raw >= 0.85 else "MISSES"
        print(
            f"{backend:10}  sign-ins {served:6.1f}/s   raw Argon2id verifies {raw:6.1f}/s"
            f"   ratio {served / raw:.2f}x  ({verdict} the 0.85x target; {workers} workers)"
        )


if __name__ == "__main__":
    main()
