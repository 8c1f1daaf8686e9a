"""The dashboard's billing page: counts now, the chart, seat-days, CSV, and the nightly job."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from roster.adapters.tables import billing_days
from roster.bootstrap import Container
from roster.entrypoints.web import background
from roster.entrypoints.web.admin.billing import chart_svg
from roster.services import billing
from tests.conftest import Tenant
from tests.e2e.admin.conftest import signed_in_admin
from tests.e2e.billing.test_billing_api import T0, history
from tests.e2e.conftest import add_user

PERIOD = {"from": "2031-06-01", "to": "2031-06-02"}


def test_the_page_shows_counts_chart_and_seat_days(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)  # an admin: 2 Active before the history
    history(container, tenant)
    page = client.get("/admin/billing", params=PERIOD)
    assert page.status_code == 200
    assert "<h1>Billing</h1>" in page.text
    assert "<strong>4</strong>" in page.text  # owner, admin, b and c are Active
    assert "Seat-days: <strong>9</strong>" in page.text  # 4 on June 1, 5 on June 2
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page.text
    assert '<title id="chart-title">Active users per day</title>' in page.text
    assert 'href="/admin/billing.csv?from=2031-06-01&amp;to=2031-06-02"' in page.text


def test_the_default_period_is_the_last_30_days(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    page = client.get("/admin/billing")
    assert page.status_code == 200
    today = container.clock().date()
    assert f'value="{(today - timedelta(days=29)).isoformat()}"' in page.text
    assert f'value="{today.isoformat()}"' in page.text


def test_a_bad_date_is_explained_next_to_the_field(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    page = client.get("/admin/billing", params={"from": "June", "to": "2031-06-02"})
    assert page.status_code == 422
    assert '<p class="error" id="from-error">Write the date as YYYY-MM-DD.</p>' in page.text
    backwards = client.get("/admin/billing", params={"from": "2031-06-03", "to": "2031-06-02"})
    assert "The last day must be on or after the first day." in backwards.text
    far = client.get("/admin/billing", params={"from": "9999-12-01", "to": "9999-12-31"})
    assert (far.status_code, "Choose days between" in far.text) == (422, True)


def test_the_csv_download_has_one_line_per_day_and_a_total(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    history(container, tenant)
    r = client.get("/admin/billing.csv", params=PERIOD)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines() == [
        "date,peak,closing,seat_days",
        "2031-06-01,4,4,4",
        "2031-06-02,4,4,5",
        "total,4,4,9",
    ]


def test_a_member_cannot_open_the_page(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    page = client.get("/admin/billing", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/admin/sign-in")


def test_the_chart_scales_to_the_highest_peak() -> None:
    class Day:
        def __init__(self, n: int) -> None:
            self.day = T0.date() + timedelta(days=n)
            self.peak, self.closing = 10 + n, 8

    svg = str(chart_svg([Day(n) for n in range(3)]))  # type: ignore[misc]
    assert ">20</text>" in svg  # the axis tops out at a round 20 above the peak of 12
    assert "highest peak 12, last closing count 8" in svg


def test_the_nightly_job_saves_sealed_days_once_per_period(
    container: Container, tenant: Tenant
) -> None:
    add_user(container, tenant, "x@x.example")
    history(container, tenant)
    background.SNAPSHOTS.next = None
    background.snapshot_billing(container)
    assert background.SNAPSHOTS.next is not None
    with container.engine.connect() as conn:
        saved = conn.execute(
            select(func.count())
            .select_from(billing_days)
            .where(billing_days.c.workspace_id == tenant.id)
        ).scalar_one()
    assert saved > 0
    assert billing.build_snapshots(container.uow(), tenant.id, T0) == 0  # nothing left to do
    assert not background.SNAPSHOTS.due(container.clock())  # the next run waits
