"""A User resource as providers read it (scim2-models writes every one)."""

from datetime import datetime, timedelta

from roster.bootstrap import Container
from roster.domain.users import Actor
from roster.domain.vocabulary import Route, Status
from roster.services.status import change_status
from tests.conftest import Tenant
from tests.e2e.scim.conftest import Scim


def test_a_status_change_made_outside_scim_moves_the_last_modification(
    idp: Scim, container: Container, tenant: Tenant
) -> None:
    user_id = idp.create("lena@example.com", externalId="ext-lena")
    created = idp.get(f"/scim/v2/Users/{user_id}").json()["meta"]
    later = container.clock() + timedelta(days=2)
    change_status(
        container.uow(),
        workspace_id=tenant.id,
        user_id=user_id,
        to=Status.INACTIVE,
        route=Route.CLI,
        actor=Actor(id=None, name="cli:test"),
        now=later,
    )
    read = idp.get(f"/scim/v2/Users/{user_id}")
    meta = read.json()["meta"]
    assert meta["created"] == created["created"]
    assert datetime.fromisoformat(meta["lastModified"]) == later
    assert read.json()["active"] is False
    assert read.headers["ETag"] == meta["version"]
    listed = idp.get('/scim/v2/Users?filter=externalId eq "ext-lena"').json()
    assert listed["Resources"] == [read.json()]
