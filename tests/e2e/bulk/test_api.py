"""Bulk actions over HTTP: 202 with the job, progress, results as JSON and CSV."""

import csv
import io

from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import Role, Status
from roster.entrypoints.web.background import run_bulk_jobs
from tests.conftest import Tenant, new_tenant
from tests.e2e.conftest import PASSWORD, add_user, token_for

URL = "/api/v1/bulk-actions"


def mix(container: Container, tenant: Tenant) -> dict[str, str]:
    return {
        "ann": add_user(container, tenant, "ann@x.example"),
        "ida": add_user(container, tenant, "ida@x.example", status=Status.INACTIVE),
        "bea": add_user(container, tenant, "bea@x.example", status=Status.BLOCKED),
    }


def admin(container: Container, tenant: Tenant) -> dict[str, str]:
    return token_for(container, tenant, CredentialKind.PERSONAL)


def test_a_bulk_action_answers_202_runs_in_the_background_and_reports_each_user(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    ids = mix(container, tenant)
    headers = admin(container, tenant)
    r = client.post(
        URL, json={"status": "inactive", "user_ids": list(ids.values())}, headers=headers
    )
    assert r.status_code == 202, r.text
    job = r.json()
    assert (job["state"], job["total"], job["processed"]) == ("queued", 3, 0)
    assert r.headers["Location"] == f"{URL}/{job['id']}"

    run_bulk_jobs(container)  # what `roster serve` does every second

    done = client.get(f"{URL}/{job['id']}", headers=headers).json()
    assert (done["state"], done["progress"], done["processed"]) == ("done", 1.0, 3)
    assert done["counts"] == {
        "applied": 1,
        "unchanged": 1,
        "refused": 1,
        "refused_by_code": {"user_blocked": 1},
    }
    assert done["active_users_delta"] == -1
    page = client.get(f"{URL}/{job['id']}/results", headers=headers).json()
    by_user = {i["user_id"]: (i["outcome"], i["code"]) for i in page["items"]}
    assert by_user == {
        ids["ann"]: ("applied", None),
        ids["ida"]: ("unchanged", None),
        ids["bea"]: ("refused", "user_blocked"),
    }
    bea = client.get(f"/api/v1/users/{ids['bea']}", headers=headers).json()
    assert bea["status"] == "blocked"


def test_results_page_by_cursor_and_download_as_csv(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    ids = mix(container, tenant)
    headers = admin(container, tenant)
    job = client.post(
        URL, json={"status": "active", "filter": {"role": ["member"]}}, headers=headers
    ).json()
    run_bulk_jobs(container)
    first = client.get(f"{URL}/{job['id']}/results?limit=2", headers=headers).json()
    assert len(first["items"]) == 2
    rest = client.get(
        f"{URL}/{job['id']}/results", params={"cursor": first["next_cursor"]}, headers=headers
    ).json()
    assert rest["next_cursor"] is None
    assert {i["user_id"] for i in first["items"] + rest["items"]} == set(ids.values())

    r = client.get(f"{URL}/{job['id']}/results?format=csv", headers=headers)
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    blocked = next(row for row in rows if row["user_id"] == ids["bea"])
    assert blocked == {
        "user_id": ids["bea"],
        "email": "bea@x.example",
        "name": "Bea",
        "from_status": "blocked",
        "outcome": "refused",
        "code": "user_blocked",
    }
    same = client.get(f"{URL}/{job['id']}/results", headers=headers | {"Accept": "text/csv"})
    assert same.text == r.text


def test_a_retried_post_with_the_same_idempotency_key_returns_the_same_job(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    ids = mix(container, tenant)
    headers = admin(container, tenant) | {"Idempotency-Key": "retry-me"}
    body = {"status": "blocked", "reason_code": "needs_review", "user_ids": [ids["ann"]]}
    first = client.post(URL, json=body, headers=headers)
    again = client.post(URL, json=body, headers=headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"]
    assert len(client.get(URL, headers=headers).json()["items"]) == 1
    other = client.post(URL, json=body | {"status": "inactive"}, headers=headers)
    assert (other.status_code, other.json()["code"]) == (422, "validation_error")


def test_a_dry_run_job_changes_nothing(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    ids = mix(container, tenant)
    headers = admin(container, tenant)
    job = client.post(
        URL, json={"status": "inactive", "filter": {}, "dry_run": True}, headers=headers
    ).json()
    run_bulk_jobs(container)
    done = client.get(f"{URL}/{job['id']}", headers=headers).json()
    assert done["dry_run"] is True
    assert done["counts"]["refused_by_code"] == {
        "user_blocked": 1,
        "cannot_change_own_status": 1,
    }
    ann = client.get(f"/api/v1/users/{ids['ann']}", headers=headers).json()
    assert ann["status"] == "active"


def test_another_workspaces_job_answers_404(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    ids = mix(container, tenant)
    job = client.post(
        URL, json={"status": "inactive", "user_ids": [ids["ann"]]}, headers=admin(container, tenant)
    ).json()
    stranger = new_tenant(container)
    theirs = admin(container, stranger)
    for path in (f"{URL}/{job['id']}", f"{URL}/{job['id']}/results"):
        r = client.get(path, headers=theirs)
        assert (r.status_code, r.json()["code"]) == (404, "not_found")
    csv_r = client.get(f"{URL}/{job['id']}/results?format=csv", headers=theirs)
    assert csv_r.status_code == 404


def test_another_workspaces_user_ids_are_refused_not_found(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    stranger = new_tenant(container)
    theirs = add_user(container, stranger, "them@y.example")
    headers = admin(container, tenant)
    job = client.post(URL, json={"status": "inactive", "user_ids": [theirs]}, headers=headers)
    run_bulk_jobs(container)
    page = client.get(f"{URL}/{job.json()['id']}/results", headers=headers).json()
    assert page["items"][0] | {"email": None} == {
        "user_id": theirs,
        "email": None,
        "name": None,
        "from_status": None,
        "outcome": "refused",
        "code": "not_found",
    }


def test_members_and_integrations_may_not_run_bulk_actions(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    add_user(container, tenant, "mo@x.example", role=Role.MEMBER)
    signed_in = client.post(
        "/api/v1/auth/sessions",
        json={"workspace": tenant.workspace.slug, "email": "mo@x.example", "password": PASSWORD},
    )
    member = {"Authorization": f"Bearer {signed_in.json()['token']}"}
    body = {"status": "inactive", "filter": {}}
    for headers in (
        token_for(container, tenant, CredentialKind.SERVICE),
        {},
    ):
        r = client.post(URL, json=body, headers=headers)
        assert r.status_code in (401, 403)
    r = client.post(URL, json=body, headers=member)
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")


def test_bad_input_is_a_problem_and_queues_nothing(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    headers = admin(container, tenant)
    for body in (
        {"status": "inactive"},
        {"status": "inactive", "user_ids": ["a"], "filter": {}},
        {"status": "inactive", "user_ids": []},
        {"status": "paused", "filter": {}},
        {"status": "inactive", "filter": {"status": ["gone"]}},
        {"status": "inactive", "filter": {"last_seen_before": "soon"}},
    ):
        r = client.post(URL, json=body, headers=headers)
        assert (r.status_code, r.json()["code"]) == (422, "validation_error"), body
    assert client.get(URL, headers=headers).json() == {"items": [], "next_cursor": None}
