"""Every example in docs/ runs, as written, against a live `roster serve` on the demo
seed, so the docs cannot drift from the code.

The convention (README.md says it too): a fenced block whose info string is `sh` is
an example and is run with bash (`-e -o pipefail`); a block marked `sh no-run` is
illustrative (a deployment, a restore) and is not. Each `curl` passes
`--fail-with-body`, so an error answer fails the example. The variables the examples
use ($ROSTER_URL, $TOKEN, …) are named at the top of their page, and this test
provides them: one server for the session, on a fresh SQLite database seeded by
`roster init --demo`. The blocks of a page run in order; a failure names the page
and the line of the block.
"""

import re
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from roster.adapters.database import make_engine
from roster.adapters.tables import users
from roster.adapters.unit_of_work import SqlUnitOfWork
from roster.bootstrap import utcnow
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import Role, Route, Status
from roster.services import automations, bulk, queries
from roster.services.access import create_token
from roster.services.demo import DEMO_EMAIL, DEMO_SLUG
from roster.services.demo_history import DORMANT_RULE
from tests.conftest import repo_root

DOCS = repo_root() / "docs"
# The pages that describe an interface: each has examples, and names their variables.
INTERFACE_PAGES = (
    "access.md",
    "api.md",
    "automations.md",
    "billing.md",
    "bulk.md",
    "email.md",
    "operations.md",
    "scim.md",
    "status-rules.md",
)
VARIABLES = (
    "ROSTER_URL",
    "TOKEN",
    "SERVICE_TOKEN",
    "SCIM_TOKEN",
    "WORKSPACE",
    "USER_ID",
    "USER_EMAIL",
    "BLOCKED_USER_ID",
    "RULE_ID",
    "JOB_ID",
)
FENCE = re.compile(r"^\s*```(\S*)(.*)$")  # a fence may be indented, inside a list


@dataclass(frozen=True)
class Example:
    page: str
    line: int
    code: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(path: Path) -> Iterator[tuple[int, str, str]]:
    """(line of the opening fence, info string, code) of each fenced block."""
    lines = path.read_text(encoding="utf-8").splitlines()
    opened: tuple[int, str] | None = None
    body: list[str] = []
    for number, line in enumerate(lines, start=1):
        fence = FENCE.match(line)
        if fence is None:
            if opened is not None:
                body.append(line)
            continue
        if opened is None:
            opened, body = (number, f"{fence[1]}{fence[2]}".strip()), []
        else:
            yield opened[0], opened[1], textwrap.dedent("\n".join(body))
            opened = None


def examples() -> list[Example]:
    found = []
    for path in sorted(DOCS.glob("*.md")):
        for line, info, code in blocks(path):
            words = info.split()
            if words[:1] == ["sh"] and "no-run" not in words:
                found.append(Example(path.name, line, code))
    return found


def intro(page: str) -> str:
    """A page's text before its first section: where its variables are named."""
    return (DOCS / page).read_text(encoding="utf-8").split("\n## ", 1)[0]


def test_every_interface_page_has_examples_and_names_their_variables() -> None:
    by_page: dict[str, list[Example]] = {}
    for example in examples():
        by_page.setdefault(example.page, []).append(example)
    for page in INTERFACE_PAGES:
        assert by_page.get(page), f"docs/{page} has no runnable example (a ```sh block)"
    for page, found in by_page.items():
        used = {v for e in found for v in re.findall(r"\$\{?([A-Z_]+)", e.code)}
        assert used <= set(VARIABLES), f"docs/{page}: {used - set(VARIABLES)} not provided"
        named = set(re.findall(r"`\$([A-Z_]+)`", intro(page)))
        assert used <= named, f"docs/{page}: name {sorted(used - named)} at the top of the page"
        for e in found:
            for call in re.findall(r"(?m)^\s*(?:\S+=\$\()?curl\b.*$", e.code):
                assert "--fail-with-body" in call, f"{e}: curl without --fail-with-body"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _token(engine_url: str, workspace_id: str, kind: CredentialKind, user_id: str | None) -> str:
    engine = make_engine(engine_url)
    try:
        _, token = create_token(
            SqlUnitOfWork(engine),
            workspace_id=workspace_id,
            kind=kind,
            name=None if user_id else f"docs {kind.value}",
            user_id=user_id,
            now=utcnow(),
            route=Route.CLI,
            actor=Actor(id=None, name="cli:docs"),
        )
    finally:
        engine.dispose()
    return token


def _variables(url: str) -> dict[str, str]:
    """The demo's ids and fresh tokens, as the examples' variables."""
    engine = make_engine(url)
    with engine.connect() as conn:
        workspace = queries.workspace_by_slug(conn, DEMO_SLUG)
        owner = queries.user_by_email(conn, workspace.id, DEMO_EMAIL).user
        u = users.c
        members = select(u.id, u.email).where(
            u.workspace_id == workspace.id, u.role == Role.MEMBER.value
        )
        active = conn.execute(
            members.where(u.status == Status.ACTIVE.value).order_by(u.email).limit(1)
        ).one()
        blocked = conn.execute(
            members.where(u.status == Status.BLOCKED.value).order_by(u.email).limit(1)
        ).one()
        rules = automations.list_rules(SqlUnitOfWork(engine), workspace.id)
        rule = next(r for r in rules if r.definition.name == DORMANT_RULE["name"])
        [job] = bulk.list_jobs(SqlUnitOfWork(engine), workspace.id)
    engine.dispose()
    return {
        "WORKSPACE": DEMO_SLUG,
        "TOKEN": _token(url, workspace.id, CredentialKind.PERSONAL, owner.id),
        "SERVICE_TOKEN": _token(url, workspace.id, CredentialKind.SERVICE, None),
        "SCIM_TOKEN": _token(url, workspace.id, CredentialKind.SCIM, None),
        "USER_ID": active.id,
        "USER_EMAIL": active.email,
        "BLOCKED_USER_ID": blocked.id,
        "RULE_ID": rule.id,
        "JOB_ID": job.id,
    }


@pytest.fixture(scope="session")
def docs_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """`roster init --demo` on a fresh SQLite file, then `roster serve` on a free port."""
    assert shutil.which("jq"), "the docs' examples use jq: apt-get install jq"
    folder = tmp_path_factory.mktemp("docs")
    url = f"sqlite:///{folder / 'roster.db'}"
    port = _free_port()
    bin_dir = str(Path(sys.executable).parent)
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(folder),
        "ROSTER_DATABASE_URL": url,
        "ROSTER_PORT": str(port),
        "ROSTER_LOG_FORMAT": "json",
    }
    roster = str(Path(bin_dir) / "roster")
    subprocess.run([roster, "init", "--demo"], env=env, check=True, capture_output=True)
    env |= _variables(url) | {"ROSTER_URL": f"http://127.0.0.1:{port}"}
    log = (folder / "serve.log").open("w")
    server = subprocess.Popen([roster, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(env["ROSTER_URL"], server)
        yield env
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        assert server.poll() is None, "roster serve exited"
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("roster serve did not become ready")


@pytest.mark.parametrize("example", examples(), ids=str)
def test_the_example_runs(example: Example, docs_env: dict[str, str]) -> None:
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", example.code],
        env=docs_env,
        cwd=docs_env["HOME"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, (
        f"docs/{example} exited {done.returncode}\n--- stdout\n{done.stdout[-2000:]}"
        f"\n--- stderr\n{done.stderr[-2000:]}"
    )
