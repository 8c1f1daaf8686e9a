"""The settings page shows the workspace's time zone and changes it."""

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from tests.conftest import Tenant
from tests.e2e.admin.conftest import post_form, signed_in_admin
from tests.e2e.admin.test_dashboard import errors_on


def test_an_admin_picks_a_time_zone_and_an_unknown_one_is_named_by_the_field(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    page = client.get("/admin/settings").text
    assert '<option value="UTC" selected>' in page
    assert '<option value="Europe/Paris">' in page
    saved = post_form(client, "/admin/settings", "/admin/settings", {"timezone": "Europe/Paris"})
    assert saved.status_code == 303
    page = client.get("/admin/settings").text
    assert "Settings saved." in page
    assert '<option value="Europe/Paris" selected>' in page
    bad = post_form(client, "/admin/settings", "/admin/settings", {"timezone": "Mars/Base"})
    assert (bad.status_code, bad.headers["location"]) == (303, "/admin/settings")
    shown = client.get("/admin/settings").text  # the refused form, once, at its GET URL
    assert errors_on(shown) == [
        "&#39;Mars/Base&#39; is not a time zone: use an IANA name such as Europe/Paris or UTC."
    ]
    assert 'aria-describedby="timezone-error"' in shown
    assert '<option value="Mars/Base" selected>' in shown  # what was typed is kept
    again = client.get("/admin/settings").text
    assert errors_on(again) == []
    assert '<option value="Europe/Paris" selected>' in again  # nothing was saved
    audit = client.get("/admin/audit?kind=workspace.settings_changed").text
    assert "UTC → Europe/Paris" in audit
