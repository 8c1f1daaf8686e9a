"""The dashboard's security headers, built in one go (admin/security.secured), are
exactly what setting each one through Starlette's MutableHeaders gave, for any
response headers: with and without a content type, HTML or not, with some of our
headers already there (once or repeated), under /admin, its static files or not."""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import MutableHeaders

from roster.entrypoints.web.admin.security import HEADERS, secured


def by_mutable_headers(
    raw: list[tuple[bytes, bytes]], *, dashboard: bool, static: bool
) -> list[tuple[bytes, bytes]]:
    """The middleware's way before (each header set through MutableHeaders)."""
    message: dict[str, Any] = {"type": "http.response.start", "headers": raw}
    headers = MutableHeaders(scope=message)
    html = headers.get("content-type", "").startswith("text/html")
    if dashboard or html:
        for name, value in HEADERS.items():
            headers[name] = value
    if dashboard and not static:
        headers["Cache-Control"] = "no-store"
    result: list[tuple[bytes, bytes]] = message["headers"]
    return result


NAMES = [
    *(b"content-type", b"content-length", b"location", b"set-cookie", b"etag"),
    *(name.lower().encode() for name in HEADERS),
    b"cache-control",
]
VALUES = [
    *(b"text/html; charset=utf-8", b"text/html", b"application/json", b"text/css", b""),
    *(b"TEXT/HTML", b"text/htm", b"no-cache", b"DENY", b"26065", b"\xe9t\xe9"),
]
header = st.tuples(st.sampled_from(NAMES), st.sampled_from(VALUES))


@settings(max_examples=600, deadline=None)
@given(raw=st.lists(header, max_size=8), dashboard=st.booleans(), static=st.booleans())
def test_the_headers_are_what_mutable_headers_gave(
    raw: list[tuple[bytes, bytes]], dashboard: bool, static: bool
) -> None:
    assert secured(list(raw), dashboard=dashboard, static=static) == by_mutable_headers(
        list(raw), dashboard=dashboard, static=static
    )


def test_a_dashboard_page_gets_every_header_and_no_store() -> None:
    page = [(b"content-length", b"10"), (b"content-type", b"text/html; charset=utf-8")]
    added = secured(page, dashboard=True, static=False)[2:]
    assert (b"content-security-policy", HEADERS["Content-Security-Policy"].encode()) in added
    assert (b"x-frame-options", b"DENY") in added
    assert added[-1] == (b"cache-control", b"no-store")
    assert secured(page, dashboard=True, static=True)[-1] != (b"cache-control", b"no-store")
