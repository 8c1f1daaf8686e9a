"""What the suite tried to break, summed over the run and printed as one line at
its end (see docs/security.md):

  roster: 120000 operations tried, 3 faults injected, 9000 hostile inputs tried, 0 violations found

Tests that hammer the rules add to it: the stress run its operations and faults,
the hostile-input and authorization tests the inputs they sent, and every checker
the violations it found (a test that finds one also fails)."""

from collections import Counter

tally: Counter[str] = Counter()

KINDS = ("operations tried", "faults injected", "hostile inputs tried", "violations found")


def add(*, operations: int = 0, faults: int = 0, hostile: int = 0, violations: int = 0) -> None:
    tally["operations tried"] += operations
    tally["faults injected"] += faults
    tally["hostile inputs tried"] += hostile
    tally["violations found"] += violations


def line() -> str:
    return "roster: " + ", ".join(f"{tally[k]} {k}" for k in KINDS)
