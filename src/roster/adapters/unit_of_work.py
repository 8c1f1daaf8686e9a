"""The SQL unit of work: one connection, one transaction, rolled back unless committed."""

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine, NestedTransaction

from roster.adapters.access_revoker import SqlAccessRevoker
from roster.adapters.audit_log import SqlAuditLog
from roster.adapters.automation_store import SqlAutomations
from roster.adapters.billing_store import SqlBilling
from roster.adapters.bulk_store import SqlBulkJobs
from roster.adapters.counts_repo import SqlUserCounts
from roster.adapters.credential_store import SqlCredentials
from roster.adapters.database import WRITE
from roster.adapters.invitation_store import SqlInvitations
from roster.adapters.mailbox import SqlMailbox
from roster.adapters.outbox import SqlOutbox
from roster.adapters.password_reset_store import SqlPasswordResets
from roster.adapters.reviews_store import SqlReviewQueue
from roster.adapters.scim_store import SqlScimDirectory
from roster.adapters.throttle_store import SqlThrottles
from roster.adapters.users_repo import SqlUserRepository
from roster.adapters.webhook_store import SqlWebhookStore
from roster.adapters.workspaces_repo import SqlWorkspaceRepository


class SqlUnitOfWork:
    """Open with `with uow:`. Each `with` is a fresh transaction; the object may be
    reused for the next one. On SQLite a writing transaction takes the write lock up
    front; one made with `write=False` (see `read_only`) does not, and cannot commit."""

    conn: Connection

    def __init__(self, engine: Engine, *, write: bool = True, consistent: bool = False) -> None:
        self.base = engine
        self.write = write
        self.engine = engine.execution_options(**WRITE) if write else engine
        if consistent and engine.dialect.name == "postgresql":
            self.engine = self.engine.execution_options(isolation_level="REPEATABLE READ")

    def read_only(self, *, consistent: bool = False) -> "SqlUnitOfWork":
        return SqlUnitOfWork(self.base, write=False, consistent=consistent)

    def __enter__(self) -> Self:
        self.conn = self.engine.connect()
        self.conn.begin()
        self.workspaces = SqlWorkspaceRepository(self.conn)
        self.users = SqlUserRepository(self.conn)
        self.counts = SqlUserCounts(self.conn)
        self.audit = SqlAuditLog(self.conn)
        self.access = SqlAccessRevoker(self.conn)
        self.outbox = SqlOutbox(self.conn)
        self.mail = SqlMailbox(self.conn)
        self.password_resets = SqlPasswordResets(self.conn)
        self.credentials = SqlCredentials(self.conn)
        self.invitations = SqlInvitations(self.conn)
        self.scim = SqlScimDirectory(self.conn)
        self.throttles = SqlThrottles(self.conn)
        self.webhooks = SqlWebhookStore(self.conn)
        self.automations = SqlAutomations(self.conn)
        self.billing = SqlBilling(self.conn)
        self.reviews = SqlReviewQueue(self.conn)
        self.bulk_jobs = SqlBulkJobs(self.conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.conn.in_transaction():
                self.conn.rollback()
        finally:
            self.conn.close()

    def savepoint(self) -> NestedTransaction:
        return self.conn.begin_nested()

    def refresh_statistics(self) -> None:
        # PostgreSQL plans from statistics that autovacuum gathers only now and then:
        # until then a table filled by one import looks empty, and each chunk's
        # lookups and foreign-key checks may scan it. SQLite plans from its indexes.
        if self.conn.dialect.name == "postgresql":
            self.conn.exec_driver_sql("ANALYZE users, audit_events")

    def commit(self) -> None:
        if not self.write:
            raise RuntimeError("A read-only unit of work cannot commit.")
        self.conn.commit()
