"""The credential check writes its last-used stamps on the request's own connection.

A request that held its connection while it waited for a second one, to write the
stamps, deadlocked the pool once as many requests stamped at once as it had
connections: 64 status changes on one worker stalled every request for the pool's
30-second timeout. With a pool of exactly one connection, that wait is certain.
"""

from datetime import timedelta

from sqlalchemy.pool import QueuePool

from roster.adapters import credential_store
from roster.adapters.database import make_engine
from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.services.access import TOUCH_EVERY, authenticate
from tests.conftest import Tenant
from tests.e2e.conftest import token_for


def test_a_credential_check_that_stamps_needs_no_second_connection(
    container: Container, tenant: Tenant, database_url: str
) -> None:
    token = token_for(container, tenant, CredentialKind.PERSONAL)["Authorization"][7:]
    one = make_engine(
        database_url, poolclass=QueuePool, pool_size=1, max_overflow=0, pool_timeout=2
    )
    try:
        now = container.clock()
        for later in (now, now + TOUCH_EVERY + timedelta(seconds=1)):  # stamps due both times
            with one.connect() as conn:
                principal = authenticate(conn, token, later)
                assert principal.user is not None
                assert principal.user.id == tenant.owner.id
                conn.exec_driver_sql("SELECT 1")  # the caller reads on after the stamps
            with one.connect() as conn:
                checked = credential_store.lookup(conn, token, later)
            assert checked is not None
            assert checked.last_used_at is not None
            assert abs(checked.last_used_at - later) < timedelta(seconds=1)  # stamped
    finally:
        one.dispose()
