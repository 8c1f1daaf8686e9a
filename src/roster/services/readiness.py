"""Whether this process should be sent traffic: the database answers and its schema
is at the migrations this code expects (`GET /readyz`; `/healthz` is liveness)."""

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from roster import __version__
from roster.adapters.migrator import code_heads, database_heads


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    version: str
    schema: str | None
    """The database's migration revision(s), or None when it does not answer."""
    reason: str | None = None


def check_readiness(engine: Engine) -> Readiness:
    """Ready only when the database answers and no migration is pending (or unknown:
    a database newer than the code is as wrong for this process as an older one)."""
    try:
        current = database_heads(engine)
    except SQLAlchemyError as away:
        # The driver's message names the host, never the password; the class is enough.
        reason = f"the database does not answer ({type(away).__name__})"
        return Readiness(False, __version__, None, reason)
    schema = ",".join(sorted(current)) or None
    expected = code_heads()
    if current != expected:
        wanted = ",".join(sorted(expected))
        reason = f"the schema is at {schema or 'no revision'}; this code needs {wanted}"
        return Readiness(False, __version__, schema, reason + " (`roster db upgrade`)")
    return Readiness(True, __version__, schema)
