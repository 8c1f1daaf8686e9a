"""What the suite tried to break, summed over the run and printed as one line at
its end (see docs/security.md):

  roster: 120000 operations tried, 3 faults injected, 9000 hostile inputs tried, 0 violations found

Tests that hammer the rules add to it: the stress run its operations and faults,
the hostile-input and authorization tests the inputs they sent, and every checker
the violations it found (a test that finds one also fails). What a test adds rides
on its report (`take`), so the line sums the tests of every worker process when
the suite runs on several (pytest-xdist), as it sums them in one."""

from collections import Counter

pending: Counter[str] = Counter()  # added by the running test, not yet reported
total: Counter[str] = Counter()  # summed from the reports

KINDS = ("operations tried", "faults injected", "hostile inputs tried", "violations found")


def add(*, operations: int = 0, faults: int = 0, hostile: int = 0, violations: int = 0) -> None:
    pending["operations tried"] += operations
    pending["faults injected"] += faults
    pending["hostile inputs tried"] += hostile
    pending["violations found"] += violations


def take() -> dict[str, int]:
    """What was added since the last report, for the next one to carry."""
    taken = {k: n for k, n in pending.items() if n}
    pending.clear()
    return taken


def count(carried: dict[str, int]) -> None:
    total.update(carried)


def line() -> str:
    return "roster: " + ", ".join(f"{total[k]} {k}" for k in KINDS)
