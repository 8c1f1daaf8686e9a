"""The dashboard's security headers (admin/security.secured)."""

from roster.entrypoints.web.admin.security import HEADERS, secured


def test_a_dashboard_page_gets_every_header_and_no_store() -> None:
    page = [(b"content-length", b"10"), (b"content-type", b"text/html; charset=utf-8")]
    added = secured(page, dashboard=True, static=False)[2:]
    assert (b"content-security-policy", HEADERS["Content-Security-Policy"].encode()) in added
    assert (b"x-frame-options", b"DENY") in added
    assert added[-1] == (b"cache-control", b"no-store")
    assert secured(page, dashboard=True, static=True)[-1] != (b"cache-control", b"no-store")
