"""`make screenshots`: the users page and a Blocked user's profile from the demo seed.

Seeds the demo workspace in a scratch SQLite file, serves it, signs in as the demo
owner in Debian's Chromium and writes docs/screenshots/{users,blocked-profile}.png.
Run: .venv/bin/python -m tests.e2e.admin.screenshots
"""

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import httpx

from roster.adapters.database import make_engine
from roster.adapters.migrator import upgrade
from roster.adapters.unit_of_work import SqlUnitOfWork
from roster.bootstrap import Container
from roster.config import Settings
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import Route
from roster.services.access import create_token
from roster.services.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_SLUG, seed_demo
from roster.services.queries import workspace_by_slug
from tests.e2e.admin.live import chromium, live_server

OUT = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
# A fixed moment, so "last seen" dates read the same on every refresh.
DEMO_NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def _workspace_id(container: Container) -> str:
    with container.engine.connect() as conn:
        return workspace_by_slug(conn, DEMO_SLUG).id


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/demo.db"
        engine = make_engine(url)
        upgrade(engine)
        container = Container(Settings(database_url=url), engine, clock=lambda: DEMO_NOW)
        seed_demo(container.uow, now=DEMO_NOW, tuning=container.jobs)
        OUT.mkdir(parents=True, exist_ok=True)
        with live_server(container) as base, chromium() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/admin/sign-in")
            page.get_by_label("Workspace").fill(DEMO_SLUG)
            page.get_by_label("Email").fill(DEMO_EMAIL)
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.goto(f"{base}/admin/users")
            page.screenshot(path=OUT / "users.png")
            page.goto(f"{base}/admin/users?status=blocked")
            page.locator("table a").first.click()
            # An integration tries to unblock: the refusal shows in the history.
            user_id = page.url.rsplit("/", 1)[1]
            _, token = create_token(
                SqlUnitOfWork(engine),
                workspace_id=_workspace_id(container),
                kind=CredentialKind.SERVICE,
                name="Billing sync",
                user_id=None,
                now=DEMO_NOW,
                route=Route.CLI,
                actor=Actor(None, "cli:test"),
            )
            httpx.put(
                f"{base}/api/v1/users/{user_id}/status",
                json={"status": "active", "note": "Payment received"},
                headers={"Authorization": f"Bearer {token}"},
            )
            page.reload()
            page.screenshot(path=OUT / "blocked-profile.png", full_page=True)
        engine.dispose()
    print(f"wrote {OUT / 'users.png'} and {OUT / 'blocked-profile.png'}")


if __name__ == "__main__":
    main()
