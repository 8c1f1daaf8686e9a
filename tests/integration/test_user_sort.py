"""The users page's sorted keyset pages, on SQLite and PostgreSQL: under every sort,
both directions, the pages walked forward and then backward hold every user once,
in the order one unpaged query gives."""

from datetime import UTC, datetime, timedelta

import pytest

from roster.bootstrap import Container
from roster.domain.filters import UserFilter
from roster.domain.vocabulary import ReasonCode, Route, Status
from roster.services.admin_queries import ListedUser, find_users
from roster.services.queries import USER_SORT_KEYS
from roster.services.users import NewUser, add_users
from tests.conftest import CLI_ACTOR, Tenant

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
SORTS = [*USER_SORT_KEYS, *(f"-{k}" for k in USER_SORT_KEYS)]


def seed(container: Container, tenant: Tenant, n: int = 23) -> None:
    """Users with tied names, tied creation moments, some never seen, every status."""
    for i in range(n):
        status = (Status.ACTIVE, Status.INACTIVE, Status.BLOCKED)[i % 3]
        seen = None if i % 4 == 0 else START + timedelta(days=i % 5)
        with container.uow() as uow:
            add_users(
                uow,
                workspace_id=tenant.id,
                new=[
                    NewUser(
                        f"u{i:02d}@x.example",
                        f"person {i % 6}",
                        status=status,
                        reason_code=ReasonCode.OTHER if status == Status.BLOCKED else None,
                        last_seen_at=seen,
                    )
                ],
                route=Route.CLI,
                actor=CLI_ACTOR,
                now=START - timedelta(days=i % 3),
                batch_id=None,
            )
            uow.commit()


def ids(rows: list[ListedUser]) -> list[str]:
    return [r.id for r in rows]


@pytest.mark.parametrize("where", [UserFilter(), UserFilter(status=(Status.ACTIVE,))])
def test_pages_under_every_sort_are_complete_and_do_not_overlap(
    container: Container, tenant: Tenant, where: UserFilter
) -> None:
    seed(container, tenant)
    with container.engine.connect() as conn:
        for sort in SORTS:
            whole = find_users(conn, tenant.id, where, sort=sort, limit=1000)
            assert whole.next_after is None
            forward: list[list[str]] = []
            page = find_users(conn, tenant.id, where, sort=sort, limit=4)
            forward.append(ids(page.items))
            while page.next_after:
                page = find_users(conn, tenant.id, where, sort=sort, after=page.next_after, limit=4)
                forward.append(ids(page.items))
            walked = [i for p in forward for i in p]
            assert walked == ids(whole.items), sort  # all of them, once, in order
            assert len(set(walked)) == len(walked)
            backward = [ids(page.items)]
            while page.prev_before:
                page = find_users(
                    conn, tenant.id, where, sort=sort, before=page.prev_before, limit=4
                )
                backward.append(ids(page.items))
            assert backward[::-1] == forward, sort  # the same pages, walked back


def test_the_order_is_the_column_order_with_never_seen_first_ascending(
    container: Container, tenant: Tenant
) -> None:
    seed(container, tenant)
    with container.engine.connect() as conn:
        by_seen = find_users(conn, tenant.id, UserFilter(), sort="last_seen_at", limit=100).items
        latest = find_users(conn, tenant.id, UserFilter(), sort="-last_seen_at", limit=100).items
        created = find_users(conn, tenant.id, UserFilter(), sort="-created_at", limit=100).items
    never = [r for r in by_seen if r.last_seen_at is None]
    assert by_seen[: len(never)] == never
    seen = [r.last_seen_at for r in by_seen[len(never) :] if r.last_seen_at]
    assert seen == sorted(seen)
    assert latest == by_seen[::-1]
    moments = [r.created_at for r in created]
    assert moments == sorted(moments, reverse=True)
