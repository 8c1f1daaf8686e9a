"""Open redirects after sign-in, with generated `next` values: other hosts,
scheme-relative and backslash tricks, userinfo, encoded and control characters
(browsers drop tabs and line breaks from URLs before resolving them). Wherever the
form's `next` points, the 303 after signing in stays on this host, and its
Location never carries a line break. (tests/e2e/security/test_web_security.py
covers the hand-picked cases.)
"""

from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.e2e.admin.conftest import csrf_of
from tests.e2e.conftest import PASSWORD
from tests.e2e.security.hostile_kit import (
    World,
    hostile,
    make_world,
    migrated_container,
    sent,
    violation,
)

BASE = "http://testserver/admin/sign-in"


@pytest.fixture(scope="module")
def world(sqlite_url: str) -> Iterator[World]:
    yield from make_world(migrated_container(sqlite_url))


PREFIXES = [
    "", "/", "//", "///", "/\\", "\\\\", "/admin", "/admin/", "/admin//", "/admin/../..//",
    "http://", "https://", "javascript:", "data:text/html,", "//evil.example", "/\t/",
    "/admin@evil.example", "/%2f%2fevil.example", "/admin%0d%0a", "\x00", " //",
]  # fmt: skip
nexts = st.builds(
    "{}{}{}".format,
    st.sampled_from(PREFIXES),
    st.sampled_from(["", "evil.example", "evil.example/admin", "@evil.example", "users"]),
    st.text(max_size=15),
)


@hostile(20)
@given(nexts)
@example("//evil.example")
@example("/admin/\r\nSet-Cookie: roster_session=x")
@example("/\t/evil.example")
@example("/admin/..\\..\\evil.example")
def test_sign_in_never_redirects_off_this_host(world: World, next_value: str) -> None:
    client = world.client
    client.cookies.clear()
    token = csrf_of(client.get("/admin/sign-in"))
    sent()
    r = client.post(
        "/admin/sign-in",
        data={
            "workspace": world.tenant.workspace.slug,
            "email": "root@h.example",
            "password": PASSWORD,
            "next": next_value,
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    if r.status_code >= 500:
        violation(f"next={next_value!r}: answered {r.status_code}")
    if r.status_code != 303:
        if "\x00" not in next_value:  # only a NUL in the form is refused (422)
            violation(f"next={next_value!r}: sign-in answered {r.status_code}")
        return
    location = r.headers["location"]
    if "\r" in location or "\n" in location:
        violation(f"next={next_value!r}: Location {location!r} holds a line break")
    # What a browser does: drop tabs and line breaks, read \ as /, resolve.
    browser = location.replace("\t", "").replace("\r", "").replace("\n", "").replace("\\", "/")
    target = urlsplit(urljoin(BASE, browser))
    if (target.scheme, target.netloc) != ("http", "testserver"):
        violation(f"next={next_value!r}: redirected to {location!r}, off this host")
