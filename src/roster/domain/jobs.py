"""Names for the one job runner (services/jobs.py): claims and stored results."""

from dataclasses import dataclass
from datetime import datetime

from roster.domain.vocabulary import Status


@dataclass(frozen=True, slots=True)
class JobRef:
    """A bulk action or automation run, by workspace and id."""

    workspace_id: str
    job_id: str


@dataclass(frozen=True, slots=True)
class Lease:
    """`holder` may run the job until `until`; every chunk it commits renews it."""

    ref: JobRef
    holder: str
    until: datetime


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One user's result as a job stored it (services/status.Outcome), with the
    status it asked for and who the user is (None: no such user), for its pages."""

    user_id: str
    result: str
    code: str | None
    from_status: Status | None
    to_status: Status | None
    email: str | None
    name: str | None
