"""The stress checker's property "no Active user shares a Blocked user's normalised
address" holds on an honest workspace and is caught where an account was made at
a look-alike of a Blocked user's address (a SCIM userName with a trailing dot, as
the code before the fix keyed `blk5@EXAMPLE.com.` apart from `blk5@example.com`)."""

from sqlalchemy import insert

from roster.adapters.tables import scim_attributes
from roster.bootstrap import Container
from roster.domain.vocabulary import Status
from tests.conftest import Tenant
from tests.e2e.conftest import add_user
from tests.stress import checker
from tests.stress.driver import Record


def _violations(container: Container, tenant: Tenant) -> list[str]:
    with container.engine.connect() as conn:
        violations, _ = checker.check(conn, tenant.id, Record())
    return violations


def test_the_checker_finds_an_active_account_at_a_blocked_users_address(
    container: Container, tenant: Tenant
) -> None:
    add_user(container, tenant, "blk5@example.com", status=Status.BLOCKED)
    twin = add_user(container, tenant, "scim-twin@no-email.invalid")
    assert _violations(container, tenant) == []
    with container.engine.begin() as conn:  # the row the old SCIM POST wrote
        conn.execute(
            insert(scim_attributes).values(
                workspace_id=tenant.id,
                user_id=twin,
                user_name="blk5@EXAMPLE.com.",
                user_name_key="blk5@example.com",
                attributes={},
                version=1,
                updated_at=container.clock(),
            )
        )
    (found,) = _violations(container, tenant)
    assert found.startswith("address blk5@example.com: Active")
    assert twin in found
