"""Lifting a block on the profile asks for the admin's own password: that question is
on the sign-in throttle's budget for the admin, and every wrong answer is a refused
attempt in the Blocked user's history."""

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from roster.bootstrap import Container
from roster.domain.vocabulary import Route, Status
from roster.entrypoints.web.app import create_app
from tests.conftest import Tenant
from tests.e2e.access.conftest import Clock, history, status_of
from tests.e2e.access.conftest import sign_in as api_sign_in
from tests.e2e.admin.conftest import csrf_of, signed_in_admin
from tests.e2e.conftest import PASSWORD, add_user


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed_client(container: Container, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(replace(container, clock=clock))) as c:
        yield c


def lift(client: TestClient, uid: str, password: str) -> Response:
    page = client.get(f"/admin/users/{uid}")
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    return client.post(
        f"/admin/users/{uid}/status",
        data={
            "to": "active",
            "note": "Resolved",
            "password": password,
            "version": version.group(1),
            "csrf_token": csrf_of(page),
        },
        follow_redirects=False,
    )


def test_guessing_the_confirmation_password_is_throttled_even_for_the_right_one(
    timed_client: TestClient, container: Container, tenant: Tenant, clock: Clock
) -> None:
    signed_in_admin(timed_client, container, tenant)
    uid = add_user(container, tenant, "bo@x.example", status=Status.BLOCKED)
    for n in range(5):
        assert lift(timed_client, uid, f"guess {n}").status_code == 303  # back to the form
    right = lift(timed_client, uid, PASSWORD)
    assert right.status_code == 429
    assert right.headers["Retry-After"] == "60"
    assert "Too many failed sign-ins" in right.text
    assert status_of(container, tenant, uid) == "blocked"
    # One budget: the admin's own sign-in waits as well.
    assert api_sign_in(timed_client, tenant, "ada@x.example").status_code == 429
    clock.advance(seconds=61)
    assert lift(timed_client, uid, PASSWORD).status_code == 303
    assert status_of(container, tenant, uid) == "active"


def test_each_wrong_confirmation_is_a_refused_attempt_in_the_users_history(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    admin = signed_in_admin(client, container, tenant)
    uid = add_user(container, tenant, "bo@x.example", status=Status.BLOCKED)
    answer = lift(client, uid, "not mine")
    assert (answer.status_code, answer.headers["location"]) == (303, f"/admin/users/{uid}")
    page = client.get(f"/admin/users/{uid}")
    assert "That is not your password. Nothing was changed." in page.text
    assert "Refused: the password did not match" in page.text
    refused = [e for e in history(container, tenant, uid) if e.outcome != "applied"]
    assert [
        (e.from_status, e.to_status, e.route, e.actor_id, e.outcome, e.note) for e in refused
    ] == [
        (Status.BLOCKED, Status.ACTIVE, Route.ADMIN_PROFILE, admin, "password_mismatch", "Resolved")
    ]
    assert status_of(container, tenant, uid) == "blocked"
