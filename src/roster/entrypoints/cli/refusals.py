"""Refusals of a many-user command (`users import`, `bulk set-status`): the first
few on screen, every one in the `--report` file, and the exit code they mean."""

import csv
from pathlib import Path
from types import TracebackType
from typing import TextIO

import typer

from roster.domain import errors
from roster.entrypoints.cli.common import REFUSED, fail

SHOWN = 20  # refusals listed on screen; the rest are counted and go to --report

REPORT = typer.Option(
    None,
    "--report",
    help="Write every refusal to this CSV file (row or user, email, code, reason).",
    dir_okay=False,
)

_PLAIN = {
    e.code: e().detail
    for e in (
        errors.UserBlocked,
        errors.CannotChangeOwnStatus,
        errors.LastOwner,
        errors.SeatLimitReached,
    )
} | {
    errors.TransitionNotAllowed.code: "The status rules do not allow this change by this route.",
    errors.ReasonRequired.code: "Blocking needs a reason code; lifting a block needs a note.",
    errors.InvalidInput.code: "The value was not accepted (for example, the email is taken).",
}


def plain_reason(code: str) -> str:
    """The refusal `code` in plain words."""
    return _PLAIN.get(code, f"Refused by the rules ({code}).")


class Refusals:
    """Collects refusals as they come: the first SHOWN for the screen, a count, and
    (with a report file) every one written as it arrives, so memory stays flat."""

    def __init__(self, report: Path | None, where: str, *, keep_all: bool = False) -> None:
        self.where, self.keep_all, self.count = where, keep_all, 0
        self.kept: list[tuple[str, str, str]] = []
        self._file: TextIO | None = None
        if report is not None:
            try:
                self._file = report.open("w", newline="", encoding="utf-8")
            except OSError as bad:
                fail(f"cannot write the report {report}: {bad.strerror}.")
            self._csv = csv.writer(self._file)
            self._csv.writerow((where, "email", "code", "reason"))

    def __enter__(self) -> "Refusals":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()

    def add(self, where: str, email: str, code: str) -> None:
        self.count += 1
        if self.keep_all or len(self.kept) < SHOWN:
            self.kept.append((where, email, code))
        if self._file is not None:
            self._csv.writerow((where, _defuse(email), code, plain_reason(code)))

    def print(self) -> None:
        """The first SHOWN refusals, one a line, and how many more there are."""
        for where, email, code in self.kept[:SHOWN]:
            typer.echo(f"  {self.where} {where}: {email} refused: {plain_reason(code)} ({code})")
        if self.count > SHOWN:
            more = f"  … and {self.count - SHOWN} more"
            typer.echo(more + ("" if self._file else " (--report FILE lists them all)."))

    def exit(self) -> None:
        """Exit 1 when the rules refused anything (0 otherwise: return)."""
        if self.count:
            raise typer.Exit(REFUSED)


def _defuse(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    return "'" + cell if cell.startswith(("=", "+", "-", "@", "\t", "\r")) else cell
