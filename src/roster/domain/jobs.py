"""Names for the one job runner's claims (services/jobs.py)."""

from dataclasses import dataclass
from datetime import datetime


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
