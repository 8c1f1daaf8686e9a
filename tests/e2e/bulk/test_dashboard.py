"""The bulk pages: selection from the users page → confirm with preview → progress → results."""

import re

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.users import Actor
from roster.domain.vocabulary import Status
from roster.entrypoints.web.background import run_bulk_jobs
from roster.services import bulk
from tests.conftest import Tenant
from tests.e2e.admin.conftest import csrf_of, signed_in_admin
from tests.e2e.conftest import add_user


def words(html: str) -> str:
    """The page's text as a reader sees it (no tags, no URLs)."""
    return re.sub(r"<[^>]+>", " ", html)


def test_an_admin_previews_runs_and_reads_a_bulk_action_with_a_blocked_user_refused(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    ann = add_user(container, tenant, "ann@x.example")
    bea = add_user(container, tenant, "bea@x.example", status=Status.BLOCKED)
    token = csrf_of(client.get("/admin/users"))
    selection = {"user_ids": [ann, bea], "csrf_token": token}

    chosen = client.post("/admin/bulk-actions/new", data=selection)
    assert "2 selected users" in chosen.text
    preview = client.post("/admin/bulk-actions/new", data=selection | {"status": "inactive"})
    assert preview.status_code == 200
    assert "Preview: nothing has changed yet" in preview.text
    assert "Would change: <strong>1</strong>" in preview.text
    assert "Would be refused: 1" in preview.text
    assert "Bea</a> (bea@x.example)" in preview.text  # named among those refused
    assert "Refused: this user is Blocked" in preview.text
    assert "Active users: 3 → 2" in preview.text  # owner, admin, ann → owner, admin

    nonce = preview.text.split('name="nonce" value="')[1].split('"')[0]
    form = selection | {"status": "inactive", "nonce": nonce}
    started = client.post("/admin/bulk-actions", data=form, follow_redirects=False)
    assert started.status_code == 303
    again = client.post("/admin/bulk-actions", data=form, follow_redirects=False)
    assert again.headers["location"] == started.headers["location"]  # one job
    page = client.get(started.headers["location"])
    assert "Bulk action started." in page.text
    assert 'http-equiv="refresh"' in page.text

    run_bulk_jobs(container)
    done = client.get(started.headers["location"])
    assert "2 of 2 users done" in done.text
    assert "Refused: this user is Blocked" in done.text
    assert "Active users 3 → 2." in done.text  # as the preview said
    assert "applied" not in words(done.text).lower()
    assert "This user is Blocked, so the bulk action left them as they are." in done.text
    assert f'href="/admin/users/{bea}"' in done.text
    assert 'http-equiv="refresh"' not in done.text
    csv_text = client.get(started.headers["location"] + "/results.csv").text
    assert f"{bea},bea@x.example,Bea,blocked,refused,user_blocked" in csv_text


def test_a_filter_without_a_status_shows_the_message_next_to_the_field(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    token = csrf_of(client.get("/admin/bulk-actions"))
    r = client.post(
        "/admin/bulk-actions",
        data={"csrf_token": token, "nonce": "n1", "f_role": "member", "seen_before": "soon"},
    )
    assert r.status_code == 422
    assert "Choose the status to set." in r.text
    assert "Write a date as YYYY-MM-DD." in r.text
    assert "No bulk actions yet." in client.get("/admin/bulk-actions").text


def test_another_workspaces_bulk_action_is_not_found(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    assert client.get("/admin/bulk-actions/blk_nope").status_code == 404
    assert client.get("/admin/bulk-actions/blk_nope/results.csv").status_code == 404


def test_a_dry_run_job_page_says_what_would_happen_and_that_nothing_changed(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    ann = add_user(container, tenant, "ann@x.example")
    bea = add_user(container, tenant, "bea@x.example", status=Status.BLOCKED)
    request = bulk.BulkRequest(Status.INACTIVE, user_ids=(ann, bea), dry_run=True)
    job, _ = bulk.start_job(
        container.uow(),
        workspace_id=tenant.id,
        request=request,
        actor=Actor(id=None, name="cli:test"),
        now=container.clock(),
    )
    run_bulk_jobs(container)
    page = client.get(f"/admin/bulk-actions/{job.id}").text
    assert "Dry run: nothing was changed." in page
    assert "Would change: 1" in page
    assert "would be refused: 1" in page
    assert "Would be refused: this user is Blocked" in page
    assert "Active users 3 → 2 (if it ran)." in page
    assert "applied" not in words(page).lower()
    assert "Changed" not in words(page)
    listed = client.get("/admin/users").text
    assert listed.count('badge-active">Active') == 3  # nobody was changed


def test_select_all_matching_targets_the_users_pages_filter_not_its_rows(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    signed_in_admin(client, container, tenant)
    for n in range(3):
        add_user(container, tenant, f"m{n}@x.example")
    add_user(container, tenant, "gone@x.example", status=Status.INACTIVE)
    listed = client.get("/admin/users?status=active")
    assert "Select all 5 users matching this filter" in listed.text  # owner, admin, 3
    searched = client.get("/admin/users?q=m1%40x")
    assert "Select all 1 user matching this filter" in searched.text

    form = {"csrf_token": csrf_of(listed), "f_status": "active", "q": ""}
    preview = client.post("/admin/bulk-actions/new", data=form | {"status": "blocked"})
    assert preview.status_code == 200
    assert "All <strong data-selected>5</strong> users matching the filter" in preview.text
    assert 'name="user_ids"' not in preview.text  # the filter is the selection
    assert 'name="f_status" value="active"' in preview.text
