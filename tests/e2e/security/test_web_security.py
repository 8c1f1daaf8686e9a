"""Web security of the dashboard and the invitation page, found from the app's routes.

- Session fixation: a cookie planted before sign-in is never the one after it.
- CSRF: every state-changing form (every POST route of the dashboard and of the
  invitation page, enumerated from the app) refuses a post without its token or with
  another session's token, and changes nothing in the database.
- Clickjacking and content sniffing: every HTML page (every GET route that answers
  HTML) forbids framing, sniffing and inline script, and sets a referrer policy.
- Cookies: HttpOnly, SameSite, and Secure when served over https.
- Logs: no password and no token secret in any log record, access logs included.
- Secrets shown once: no page, API answer or database column shows a token again.
- Open redirects after sign-in (hand-picked; generated ones: test_hostile_redirects).

These run on SQLite only: what they check lives in the HTTP layer (the matrix and
the dashboard's own tests cover both databases).
"""

import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx2
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from roster.adapters.database import make_engine
from roster.adapters.migrator import upgrade
from roster.adapters.tables import metadata
from roster.adapters.tokens import token_hash
from roster.bootstrap import Container
from roster.config import Settings
from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import Role
from roster.entrypoints.web.app import create_app
from tests import tally
from tests.conftest import Tenant, new_tenant
from tests.e2e.admin.conftest import csrf_of, sign_in
from tests.e2e.conftest import PASSWORD, add_user, token_for
from tests.e2e.security.conftest import ADMIN_EMAIL, FORM_DATA, RULE, api_routes

SESSION = "roster_session"


@pytest.fixture(scope="session")
def database_url(sqlite_url: str) -> str:
    """This module runs on SQLite only (see the module's docstring)."""
    return sqlite_url


def signed_in(app: FastAPI, tenant: Tenant, email: str = ADMIN_EMAIL, **kw: Any) -> TestClient:
    client = TestClient(app, **kw)
    answer = sign_in(client, tenant, email)
    assert answer.status_code == 303, answer.text
    return client


def _admin(container: Container, tenant: Tenant, email: str = ADMIN_EMAIL) -> str:
    return add_user(container, tenant, email, role=Role.ADMIN)


# --- session fixation --------------------------------------------------------------


def test_a_session_cookie_planted_before_sign_in_is_not_the_one_after(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    _admin(container, tenant)
    _admin(container, tenant, "mallory@x.example")
    attacker = signed_in(client.app, tenant, "mallory@x.example")  # type: ignore[arg-type]
    planted = attacker.cookies[SESSION]
    for value in (planted, "made-up-by-the-attacker", f"rst.{tenant.id}.{'A' * 43}"):
        victim = TestClient(client.app, cookies={SESSION: value, "roster_presession": "p" * 43})
        answer = sign_in(victim, tenant, ADMIN_EMAIL)
        assert answer.status_code == 303
        issued = _set_cookies(answer)
        after = issued[SESSION].split(";")[0].split("=", 1)[1]
        assert after != value
        assert 'roster_presession=""' in issued["roster_presession"]  # the form's key is spent
        assert "Ada" in TestClient(client.app, cookies={SESSION: after}).get("/admin/users").text
        # The planted cookie does not authenticate (the attacker's own is ended too).
        replay = TestClient(client.app, cookies={SESSION: value})
        assert replay.get("/admin/users", follow_redirects=False).status_code == 303
    tally.add(hostile=3)


# --- CSRF on every form ------------------------------------------------------------


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, but for the last-used and last-seen stamps (which a
    credential check may write whatever the request then does)."""
    skip = {"last_used_at", "last_seen_at"}
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            cols = [c for c in table.columns if c.name not in skip]
            found = conn.execute(select(*cols)).all()
            rows[table.name] = sorted((tuple(map(str, r)) for r in found), key=str)
    return rows


class Forms:
    """Real targets of one workspace for the dashboard's forms."""

    def __init__(self, client: TestClient, container: Container, tenant: Tenant) -> None:
        self.client = client
        self.container = container
        self.tenant = tenant
        self.owner = token_for(container, tenant, CredentialKind.PERSONAL)
        self.n = 0

    def api(self, method: str, path: str, body: Any = None) -> Any:
        r = self.client.request(method, f"/api/v1{path}", json=body, headers=self.owner)
        assert r.status_code < 300, r.text
        return r.json()

    def user(self) -> str:
        self.n += 1
        return add_user(self.container, self.tenant, f"f{self.n}@x.example")

    def rule(self) -> str:
        return str(self.api("POST", "/automations", RULE)["id"])

    def run(self, rule_id: str) -> str:
        return str(self.api("POST", f"/automations/{rule_id}/runs", {"dry_run": True})["id"])

    def job(self) -> str:
        body = {"status": "inactive", "user_ids": [self.user()], "dry_run": True}
        return str(self.api("POST", "/bulk-actions", body)["id"])

    def token_id(self) -> str:
        return str(self.api("POST", "/tokens", {"kind": "service", "name": "t"})["id"])

    def invitation(self) -> str:
        self.n += 1
        return str(self.api("POST", "/invitations", {"email": f"i{self.n}@x.example"})["token"])

    def invitation_id(self) -> str:
        self.n += 1
        return str(self.api("POST", "/invitations", {"email": f"i{self.n}@x.example"})["id"])

    def reset_token(self) -> str:
        """A live password reset link's token, read off the email that carries it."""
        self.n += 1
        email = f"r{self.n}@x.example"
        add_user(self.container, self.tenant, email)
        body = {"workspace": self.tenant.workspace.slug, "email": email}
        assert self.client.post("/api/v1/auth/password-resets", json=body).status_code == 202
        [sent] = [e for e in self.api("GET", "/emails")["items"] if e["to"] == email]
        found = re.search(r"/admin/password-reset/(\S+)", sent["text_body"])
        assert found, sent["text_body"]
        return found.group(1)

    def endpoint_id(self) -> str:
        body = {"url": "https://hooks.example/csrf", "events": ["*"]}
        return str(self.api("POST", "/webhook-endpoints", body)["id"])

    def delivery_id(self, endpoint_id: str) -> str:
        return str(self.api("POST", f"/webhook-endpoints/{endpoint_id}/test")["delivery_id"])

    def params(self, names: tuple[str, ...]) -> dict[str, str]:
        made: dict[str, str] = {}
        for name in names:
            maker = PARAMS.get(name)
            if maker is None:
                pytest.fail(f"path parameter {name!r} is new: say how to make one in PARAMS")
            made[name] = maker(self, made)
        return made


PARAMS: dict[str, Callable[[Forms, dict[str, str]], str]] = {
    "user_id": lambda f, _: f.user(),
    "rule_id": lambda f, made: made.get("rule_id") or f.rule(),
    "run_id": lambda f, made: f.run(made.setdefault("rule_id", f.rule())),
    "job_id": lambda f, _: f.job(),
    "token_id": lambda f, _: f.token_id(),
    "token": lambda f, _: f.invitation(),
    "invitation_id": lambda f, _: f.invitation_id(),
    "reset_token": lambda f, _: f.reset_token(),
    "endpoint_id": lambda f, made: made.get("endpoint_id") or f.endpoint_id(),
    "delivery_id": lambda f, made: f.delivery_id(made.setdefault("endpoint_id", f.endpoint_id())),
}
# Forms for people not signed in: their CSRF token is the pre-session one of their page.
PRESESSION_FORMS = ("/admin/sign-in", "/admin/forgot-password", "/admin/password-reset/")

READ_ONLY_POSTS = {
    "/admin/bulk-actions/new",  # a preview page: it writes nothing anyway
    "/admin/automations/summary",  # the rule in words, for the editor: saves nothing
    "/admin/users/{user_id}/review",  # the form's user is not Blocked: nothing to review
}


def form_posts(app: FastAPI) -> list[tuple[str, tuple[str, ...]]]:
    """Every POST route that a browser form reaches (not the API, not SCIM)."""
    found = []
    for path, route in api_routes(app):
        if "POST" in (route.methods or ()) and path.startswith(("/admin", "/invitations")):
            found.append((path, tuple(route.param_convertors)))
    return found


def _right_token(browser: TestClient, path: str, url: str) -> dict[str, str]:
    """The form's CSRF field as the page that holds the form would give it."""
    if path == "/invitations/{token}":
        page = browser.get(url)
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found, page.text
        return {"csrf": found.group(1)}
    page = browser.get(url if path.startswith(PRESESSION_FORMS) else "/admin/settings")
    return {"csrf_token": csrf_of(page)}


@pytest.fixture
def own_database(tmp_path: Path) -> Iterator[tuple[TestClient, Container, Tenant]]:
    """An app on a database of its own: the CSRF test compares every row of every
    table before and after each refused post, which on the module's shared database
    (every earlier test's rows) took minutes."""
    url = f"sqlite:///{tmp_path / 'roster.db'}"
    engine = make_engine(url)
    upgrade(engine)
    container = Container(settings=Settings(database_url=url), engine=engine)
    tenant = new_tenant(container)
    with TestClient(create_app(container)) as client:
        yield client, container, tenant
    engine.dispose()


def test_every_form_refuses_a_post_without_its_csrf_token_and_changes_nothing(
    own_database: tuple[TestClient, Container, Tenant],
) -> None:
    client, container, tenant = own_database
    app: FastAPI = client.app  # type: ignore[assignment]
    _admin(container, tenant)
    _admin(container, tenant, "eve@x.example")
    forms = Forms(client, container, tenant)
    posts = form_posts(app)
    assert len(posts) >= 13
    undeclared = sorted(p for p, _ in posts if p not in FORM_DATA)
    assert not undeclared, f"new forms: give a valid body in FORM_DATA: {undeclared}"
    # Another admin's live session and its CSRF token: a real token, of the wrong session.
    eve = signed_in(app, tenant, "eve@x.example")
    wrong = csrf_of(eve.get("/admin/settings"))
    refused = 0
    for path, names in posts:
        url = path.format(**forms.params(names))
        data = dict(FORM_DATA[path])
        if path == "/admin/sign-in":
            data["workspace"] = tenant.workspace.slug
        browser = signed_in(app, tenant) if path.startswith("/admin") else TestClient(app)
        right = _right_token(browser, path, url)  # also sets the form's cookie
        before = snapshot(container.engine)
        field = next(iter(right))
        for sent in ({}, {field: wrong}, {field: "0" * 64}, {field: ""}):
            answer = browser.post(url, data=data | sent, follow_redirects=False)
            assert answer.status_code == 403, (path, sent, answer.status_code)
            refused += 1
        assert snapshot(container.engine) == before, f"{path}: a refused post changed data"
        # The same form with its own token goes through: the refusals were the token's.
        accepted = browser.post(url, data=data | right, follow_redirects=False)
        assert accepted.status_code in (200, 303), (path, accepted.status_code, accepted.text)
        if path not in READ_ONLY_POSTS:
            assert snapshot(container.engine) != before, f"{path}: the control changed nothing"
    tally.add(hostile=refused)


# --- headers on every HTML page ----------------------------------------------------


def html_pages(app: FastAPI) -> list[tuple[str, tuple[str, ...]]]:
    found = []
    for path, route in api_routes(app):
        if "GET" in (route.methods or ()) and not path.startswith(("/scim", "/openapi")):
            found.append((path, tuple(route.param_convertors)))
    return found


def test_every_html_page_forbids_framing_sniffing_and_inline_script(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    _admin(container, tenant)
    forms = Forms(client, container, tenant)
    browser = signed_in(app, tenant)
    checked: list[str] = []
    problems: list[str] = []
    for path, names in html_pages(app):
        url = path.format(**forms.params(names))
        answer = browser.get(url, follow_redirects=False)
        headers = answer.headers
        kind = headers.get("content-type", "")
        if answer.status_code >= 300 or not kind.startswith("text/html"):
            continue
        checked.append(path)
        csp = headers.get("content-security-policy", "")
        script = re.search(r"script-src ([^;]*)", csp)
        default = re.search(r"default-src ([^;]*)", csp)
        scripts = (script or default).group(1) if (script or default) else "*"  # type: ignore[union-attr]
        wanted = {
            "frame-ancestors 'none'": "frame-ancestors 'none'" in csp,
            "X-Frame-Options DENY": headers.get("x-frame-options") == "DENY",
            "nosniff": headers.get("x-content-type-options") == "nosniff",
            "no inline script": "'unsafe-inline'" not in scripts and "*" not in scripts,
            "referrer policy": headers.get("referrer-policy")
            in ("no-referrer", "same-origin", "strict-origin-when-cross-origin"),
            "no inline <script> (only our own files)": all(
                re.fullmatch(r'<script src="/admin/static/[\w.-]+\.js"></script>', tag)
                for tag in re.findall(r"<script[^>]*>[^<]*</script>", answer.text, re.I)
            )
            and answer.text.lower().count("<script") == len(re.findall("</script>", answer.text)),
        }
        problems += [f"{path}: {k}" for k, ok in wanted.items() if not ok]
    assert {"/", "/admin/users", "/admin/sign-in", "/invitations/{token}"} <= set(checked)
    assert len(checked) >= 15, checked
    assert not problems, "\n".join(problems)


# --- cookies -----------------------------------------------------------------------


def _set_cookies(answer: httpx2.Response) -> dict[str, str]:
    return {c.split("=", 1)[0]: c for c in answer.headers.get_list("set-cookie")}


def test_cookies_are_http_only_same_site_and_secure_over_https(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    _admin(container, tenant)
    token = Forms(client, container, tenant).invitation()
    for base, secure in (("https://testserver", True), ("http://testserver", False)):
        browser = TestClient(app, base_url=base)
        form = browser.get("/admin/sign-in")
        presession = _set_cookies(form)["roster_presession"]
        signed = sign_in(browser, tenant, ADMIN_EMAIL)
        session = _set_cookies(signed)[SESSION]
        invitation = _set_cookies(browser.get(f"/invitations/{token}"))["roster_invitation_csrf"]
        for cookie, same_site in ((presession, "lax"), (session, "lax"), (invitation, "strict")):
            attributes = [a.strip().lower() for a in cookie.split(";")]
            assert "httponly" in attributes, cookie
            assert f"samesite={same_site}" in attributes, cookie
            assert ("secure" in attributes) == secure, cookie
        assert "path=/admin" in session.lower()


def test_behind_a_tls_proxy_the_cookies_are_secure(
    served: str, container: Container, tenant: Tenant
) -> None:
    """`roster serve` trusts X-Forwarded-Proto from the local proxy (uvicorn's
    proxy_headers): a sign-in over https at the proxy gets Secure cookies."""
    _admin(container, tenant)
    https = {"X-Forwarded-Proto": "https"}
    with httpx2.Client(base_url=served, headers=https) as http:
        form = http.get("/admin/sign-in")
        data = {"workspace": tenant.workspace.slug, "email": ADMIN_EMAIL, "password": PASSWORD}
        # (the client keeps Secure cookies off plain http: send the form's key by hand)
        presession = form.headers["set-cookie"].split(";")[0]
        signed = http.post(
            "/admin/sign-in",
            data=data | {"csrf_token": csrf_of(form)},
            headers={"Cookie": presession},
        )
    assert signed.status_code == 303, signed.text
    for cookie in (form.headers["set-cookie"], _set_cookies(signed)[SESSION]):
        assert "secure" in [a.strip().lower() for a in cookie.split(";")], cookie


# --- no secrets in logs ------------------------------------------------------------


@pytest.fixture
def served(container: Container) -> Iterator[str]:
    """A real uvicorn server in a thread, its access log on (as `roster serve` runs)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        create_app(container), host="127.0.0.1", port=port, log_config=None,
        log_level="debug", access_log=True, proxy_headers=True,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_no_password_or_token_secret_reaches_the_logs(
    served: str, container: Container, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _admin(container, tenant)
    owner = token_for(container, tenant, CredentialKind.PERSONAL)
    secrets: list[str] = [PASSWORD, owner["Authorization"].split()[1]]
    new_password = "a fresh invitee passphrase"
    secrets.append(new_password)
    with httpx2.Client(base_url=served) as http:
        signed = http.post(
            "/api/v1/auth/sessions",
            json={"workspace": tenant.workspace.slug, "email": ADMIN_EMAIL, "password": PASSWORD},
        )
        secrets.append(signed.json()["token"])
        made = http.post("/api/v1/tokens", json={"kind": "scim", "name": "idp"}, headers=owner)
        secrets.append(made.json()["token"])
        bad = http.post(
            "/api/v1/auth/sessions",
            json={"workspace": tenant.workspace.slug, "email": ADMIN_EMAIL, "password": "wrong!"},
        )
        assert bad.status_code == 401
        secrets.append("wrong!")
        for accept in ("page", "api"):
            invited = http.post(
                "/api/v1/invitations", json={"email": f"{accept}@x.example"}, headers=owner
            ).json()
            secrets.append(invited["token"])
            if accept == "api":
                r = http.post(
                    f"/api/v1/invitations/{invited['token']}/accept",
                    json={"password": new_password},
                )
                assert r.status_code == 200, r.text
                continue
            page = http.get(f"/invitations/{invited['token']}")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert csrf
            r = http.post(
                f"/invitations/{invited['token']}",
                data={
                    "csrf": csrf.group(1),
                    "password": new_password,
                    "password_confirm": new_password,
                },
            )
            assert r.status_code == 303, r.text
        # The dashboard: sign in through the form, create a token there.
        form = {"workspace": tenant.workspace.slug, "email": ADMIN_EMAIL, "password": PASSWORD}
        form["csrf_token"] = csrf_of(http.get("/admin/sign-in"))
        assert http.post("/admin/sign-in", data=form).status_code == 303
        form = {"kind": "service", "name": "crm", "csrf_token": csrf_of(http.get("/admin/tokens"))}
        assert http.post("/admin/tokens", data=form).status_code == 303
        shown = re.findall(r"rst\.\w+\.[\w-]{43}", http.get("/admin/tokens").text)
        assert len(shown) == 1
        secrets += shown
    access = [r for r in caplog.records if r.name == "uvicorn.access"]
    assert len(access) >= 10, "the access log was not captured"
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    lines = [r.getMessage() for r in server]  # (the client's own log is not the server's)
    lines += [str(getattr(r, "exc_text", "") or "") for r in server]
    found = sorted({line for s in secrets for line in lines if _secret_part(s) in line})
    tally.add(violations=len(found))
    assert not found, f"secrets in the logs: {found}"


def _secret_part(secret: str) -> str:
    """The part of a token that is secret (its workspace part is not)."""
    return secret.rsplit(".", 1)[-1]


def _short(secret: str) -> str:
    return secret[:12] + "…"


# --- secrets shown once ------------------------------------------------------------


def test_a_token_or_invitation_secret_is_shown_once_and_stored_only_as_a_hash(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    _admin(container, tenant)
    owner = token_for(container, tenant, CredentialKind.PERSONAL)
    issued = {
        "api token": client.post(
            "/api/v1/tokens", json={"kind": "service", "name": "once"}, headers=owner
        ).json()["token"],
        "invitation": client.post(
            "/api/v1/invitations", json={"email": "once@x.example"}, headers=owner
        ).json()["token"],
        "api session": client.post(
            "/api/v1/auth/sessions",
            json={"workspace": tenant.workspace.slug, "email": ADMIN_EMAIL, "password": PASSWORD},
        ).json()["token"],
        "owner's token": owner["Authorization"].split()[1],
    }
    browser = signed_in(app, tenant)
    issued["dashboard cookie"] = browser.cookies[SESSION]
    form = {
        "kind": "scim",
        "name": "shown once",
        "csrf_token": csrf_of(browser.get("/admin/tokens")),
    }
    made = browser.post("/admin/tokens", data=form)
    shown = re.findall(r"rst\.[A-Za-z0-9_]+\.[A-Za-z0-9_-]{43}", made.text)
    assert len(shown) == 1, "the new token is shown right after it is made"
    issued["dashboard token"] = shown[0]
    again = [
        browser.get("/admin/tokens").text,
        browser.get("/admin/settings").text,
        client.get("/api/v1/tokens", headers=owner).text,
        client.get("/api/v1/invitations", headers=owner).text,
        client.get("/api/v1/audit-events", headers=owner).text,
    ]
    for name, secret in issued.items():
        for text in again:
            assert _secret_part(secret) not in text, f"{name} shown again"
    # The database keeps the SHA-256 of each, never the secret; but for the email
    # that carries an invitation's link, until it is sent (tests/e2e/mail).
    with container.engine.connect() as conn:
        stored = "\n".join(
            "|".join(map(str, row))
            for table in metadata.sorted_tables
            if table.name != "emails"
            for row in conn.execute(select(table)).all()
        )
    for name, secret in issued.items():
        assert _secret_part(secret) not in stored, f"{name} is stored in the clear"
        assert token_hash(secret) in stored, f"{name}'s hash is not what is stored"


# --- open redirects after sign-in (hand-picked) ------------------------------------

OFF_SITE = [
    "https://evil.example/admin",
    "//evil.example/admin",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "/admin@evil.example",
    "//admin.evil.example",
    " //evil.example",
    "/%2F%2Fevil.example",
    "/admin/..//evil.example",
    "/admin\t//evil.example",
]


def test_sign_in_never_sends_the_browser_off_site(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    _admin(container, tenant)
    base = "http://testserver/admin/sign-in"
    for target in OFF_SITE:
        browser = TestClient(client.app)
        page = browser.get("/admin/sign-in", params={"next": target})
        answer = browser.post(
            "/admin/sign-in",
            data={"workspace": tenant.workspace.slug, "email": ADMIN_EMAIL, "password": PASSWORD,
                  "next": target, "csrf_token": csrf_of(page)},
            follow_redirects=False,
        )  # fmt: skip
        assert answer.status_code == 303, target
        landing = urlsplit(urljoin(base, answer.headers["location"]))
        assert (landing.scheme, landing.netloc) == ("http", "testserver"), (target, landing)
    # A page that needs sign-in names only its own path as `next`.
    away = TestClient(client.app).get("//evil.example/admin/users", follow_redirects=False)
    assert "evil.example" not in away.headers.get("location", "")
    tally.add(hostile=len(OFF_SITE) + 1)


def test_the_api_session_token_cannot_be_used_as_the_dashboard_cookie(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    """The other half of the matrix's dashboard-cookie check: no bearer token opens
    the dashboard (its CSRF key and route are the dashboard session's alone)."""
    _admin(container, tenant)
    other = new_tenant(container)
    tokens = [
        client.post(
            "/api/v1/auth/sessions",
            json={"workspace": tenant.workspace.slug, "email": ADMIN_EMAIL, "password": PASSWORD},
        ).json()["token"],
        token_for(container, tenant, CredentialKind.PERSONAL)["Authorization"].split()[1],
        token_for(container, other, CredentialKind.PERSONAL)["Authorization"].split()[1],
    ]
    for token in tokens:
        browser = TestClient(client.app, cookies={SESSION: token})
        assert browser.get("/admin/users", follow_redirects=False).status_code == 303
    tally.add(hostile=len(tokens))
