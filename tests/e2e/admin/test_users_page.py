"""The users page answers through the dashboard's own session dependency."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from roster.entrypoints.web.admin.session import AdminSession, NotAdmin, admin_session


def test_the_users_page_takes_its_admin_from_the_same_dependency_as_every_page(
    client: TestClient,
) -> None:
    """An app that replaces the session dependency sees the users page use the
    replacement too, as the profile does: there is no second way in."""

    def not_an_admin() -> AdminSession:
        raise NotAdmin()

    app: FastAPI = client.app  # type: ignore[assignment]
    app.dependency_overrides[admin_session] = not_an_admin
    for path in ("/admin/users", "/admin/users?status=blocked", "/admin/users/usr_x"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 403, path
        assert "Dashboard is for admins" in r.text
