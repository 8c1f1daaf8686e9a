"""`make bench`: run the named benchmarks (all of them without a name), each in its
own process with its defaults, one after the other. docs/benchmarks.md gives each
one's command with the sizes of record, its baseline and its target.

Run: .venv/bin/python -m bench [NAME ...]     e.g. python -m bench me bulk
"""

import subprocess
import sys

BENCHMARKS = {
    "me": "GET /api/v1/me over rotating tokens vs bare Starlette + sqlite3 (floor 0.07x)",
    "users_api": "GET /api/v1/users at 1M users vs its raw SQL (p95 <= 200 ms)",
    "search": "GET /api/v1/users?q= at 1M users vs GET /api/v1/users/{id} (p95 <= 200 ms)",
    "users_page": "GET /admin/users at 1M users vs its raw SQL (p95 <= 200 ms)",
    "bulk": "block 100,000 of 1M vs the best raw SQL (<= 2x)",
    "automations": "the dormant sweep, 100,000 of 1M vs raw set-based SQL (<= 2x)",
    "scim": "SCIM list and PATCH vs bare Starlette (>= 0.5x)",
    "sign_in": "sign-ins vs raw Argon2id verifies (>= 0.85x)",
    "billing": "active count vs a PK read (<= 1.2x); one-year report (< 1 s)",
    "import": "roster users import vs raw executemany",
    "mail": "10,000 status notices to a local SMTP server vs raw smtplib (>= 0.5x)",
    "webhooks": "10,000 status_changed deliveries to a local receiver vs bare httpx (>= 0.5x)",
}


def main() -> int:
    names = sys.argv[1:] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(unknown)}. Known: {', '.join(BENCHMARKS)}.")
        return 2
    failed = 0
    for name in names:
        print(f"== {name}: {BENCHMARKS[name]}", flush=True)
        run = subprocess.run([sys.executable, "-m", f"bench.bench_{name}"], check=False)  # noqa: S603
        failed += run.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
