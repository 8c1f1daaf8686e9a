"""The SCIM lookup that reads users with their groups in one statement answers what
reading the users, then their groups, answers: the same users, the same groups in
the same order, whichever lookups name them (a user two lookups match comes once)."""

from typing import Any

from roster.adapters import scim_store
from roster.bootstrap import Container
from roster.services import scim
from tests.conftest import Tenant
from tests.e2e.conftest import add_user


def test_users_and_their_groups_read_in_one_statement_as_in_two(
    container: Container, tenant: Tenant
) -> None:
    people = [add_user(container, tenant, f"g{i}@lookup.example") for i in range(4)]
    for n, name in enumerate(["Zeta", "Alpha ü", "Mid", "Beta"]):
        members = [{"value": u} for u in people[: n + 1]]  # user 0 in all four groups
        write = scim.GroupWrite(display_name=name, external_id=None, members=members)
        scim.create_group(
            container.uow(), workspace_id=tenant.id, write=write, now=container.clock()
        )
    nobody = add_user(container, tenant, "none@lookup.example")
    asks: list[dict[str, Any]] = [
        {"ids": [people[0]]},
        {"ids": [nobody]},
        {"ids": ["usr_missing"]},
        {"ids": [*people, nobody]},
        {
            "emails": ["g0@lookup.example", "g2@lookup.example"],
            "user_name_keys": ["g0@lookup.example"],
        },
        {"ids": [people[1]], "emails": ["g1@lookup.example"], "external_ids": ["x"]},
    ]
    with container.engine.connect() as conn:
        for ask in asks:
            rows, groups = scim_store.user_rows_with_groups(conn, tenant.id, **ask)
            alone = scim_store.user_rows(conn, tenant.id, **ask)
            assert [r.id for r in rows] == [r.id for r in alone], ask
            assert [r._mapping["scim_user_name"] for r in rows] == [
                r._mapping["scim_user_name"] for r in alone
            ]
            assert groups == scim_store.groups_of(conn, tenant.id, [r.id for r in alone]), ask
    assert len(groups[people[1]]) == 3
