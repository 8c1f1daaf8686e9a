"""CSV and header injection through exports: names, emails and notes that start like
spreadsheet formulas (= + - @ tab CR) come out of every CSV export as text (a `'`
in front), and no value ever reaches a response header with a CR or LF in it.

Exports: `roster users export`, `roster bulk results`, the audit log CSV (API and
dashboard), a bulk job's results CSV (API and dashboard), the billing CSV (API and
dashboard).
"""

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from typer.testing import CliRunner

from roster.config import get_settings
from roster.entrypoints.cli import common
from roster.entrypoints.cli.main import app
from roster.entrypoints.web.background import run_bulk_jobs
from tests.e2e.admin.conftest import sign_in
from tests.e2e.security.hostile_kit import (
    World,
    hostile,
    make_world,
    migrated_container,
    sent,
    violation,
)

runner = CliRunner()
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def world(sqlite_url: str) -> Iterator[World]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROSTER_DATABASE_URL", sqlite_url)
        get_settings.cache_clear()
        common.container.cache_clear()
        for w in make_world(migrated_container(sqlite_url)):
            assert sign_in(w.client, w.tenant, "root@h.example").status_code == 303
            yield w
        common.container.cache_clear()
        get_settings.cache_clear()


formula_text = st.builds(
    "{}{}".format,
    st.sampled_from(["=", "+", "-", "@", "=HYPERLINK(", "+cmd|' /C calc'!", "-2+3", "@SUM("]),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=20),
).map(lambda s: s.strip()[:200] or "=1")
# Local parts may start with = + - (RFC 5322 atext); @ cannot, it is the separator.
formula_emails = st.builds(
    "{}{}@h.example".format,
    st.sampled_from(["=", "+", "-", "=cmd", "+1", "-1"]),
    st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8),
)


@hostile(8)
@given(st.lists(st.tuples(formula_emails, formula_text), min_size=1, max_size=3), formula_text)
@example([("=cmd0@h.example", '=HYPERLINK("http://evil","x")')], "@SUM(A1:A9)")
def test_every_csv_export_defuses_formula_like_cells(
    world: World, people: list[tuple[str, str]], note: str
) -> None:
    ids = []
    for email, name in people:
        r = world.client.post(
            "/api/v1/users", json={"email": email, "name": name}, headers=world.personal
        )
        if r.status_code == 201:
            ids.append(r.json()["id"])
    if not ids:
        return
    r = world.client.put(
        f"/api/v1/users/{ids[0]}/status",
        json={"status": "inactive", "note": note},
        headers=world.personal,
    )
    assert r.status_code == 200, r.text
    job = world.client.post(
        "/api/v1/bulk-actions",
        json={"status": "active", "user_ids": ids, "note": note},
        headers=world.personal,
    ).json()
    run_bulk_jobs(world.container)
    sent(len(people) * 2 + 1)
    for what, text, headers in _exports(world, job["id"]):
        _no_split_header(what, headers)
        for n, row in enumerate(csv.reader(io.StringIO(text))):
            for cell in row:
                if cell.startswith(FORMULA_STARTS):
                    violation(f"{what}: row {n} has a live formula cell {cell[:60]!r}")


def _exports(world: World, job_id: str) -> Iterator[tuple[str, str, dict[str, str]]]:
    slug = world.tenant.workspace.slug
    for path in (
        "/api/v1/audit-events?format=csv",
        f"/api/v1/bulk-actions/{job_id}/results?format=csv",
        "/api/v1/billing/usage?format=csv&from=2020-01-01&to=2020-01-31",
    ):
        r = world.client.get(path, headers=world.personal)
        assert r.status_code == 200, (path, r.text)
        yield path, r.text, dict(r.headers)
    for path in (
        "/admin/audit.csv",
        f"/admin/bulk-actions/{job_id}/results.csv",
        "/admin/billing.csv",
    ):
        r = world.client.get(path)
        assert r.status_code == 200, (path, r.text)
        yield path, r.text, dict(r.headers)
    for args in (["users", "export", "-w", slug], ["bulk", "results", job_id, "-w", slug]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.stderr
        yield "roster " + " ".join(args[:2]), result.stdout, {}


def _no_split_header(what: str, headers: dict[str, Any]) -> None:
    for name, value in headers.items():
        if "\r" in value or "\n" in value:
            violation(f"{what}: header {name} holds a line break: {value!r}")


@hostile(1)
@given(st.just(None))
def test_no_text_a_user_controls_reaches_a_header_with_a_line_break(
    world: World, once: None
) -> None:
    """A slug can only be [a-z0-9-]; a workspace name with CR/LF is refused or kept
    out of headers; the download names stay plain."""
    sent(3)
    result = runner.invoke(
        app, ["workspaces", "create", "evil\r\nset-cookie: a=b", "--owner-email", "o@h.example"]
    )
    if result.exit_code == 0:
        violation("a slug with CR/LF was accepted")
    world.client.patch(
        "/api/v1/workspace",
        json={"name": "Evil\r\nSet-Cookie: session=x"},
        headers=world.personal,
    )
    for what, _, headers in _exports(world, _any_job(world)):
        _no_split_header(what, headers)
        disposition = headers.get("content-disposition", "")
        if disposition and not disposition.isascii():
            violation(f"{what}: a non-ASCII Content-Disposition {disposition!r}")


def _any_job(world: World) -> str:
    r = world.client.post(
        "/api/v1/bulk-actions",
        json={"status": "active", "user_ids": [world.active], "dry_run": True},
        headers=world.personal,
    )
    assert r.status_code == 202, r.text
    run_bulk_jobs(world.container)
    return str(r.json()["id"])
