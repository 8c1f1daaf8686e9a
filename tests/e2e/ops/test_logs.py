"""`ROSTER_LOG_FORMAT=json`: one JSON object per line, a line per request with its id."""

import json

import httpx

from roster.bootstrap import Container
from roster.domain.credentials import CredentialKind
from tests.conftest import new_tenant
from tests.e2e.conftest import token_for
from tests.e2e.ops.test_shutdown import free_port, roster, stop, wait_ready


def test_json_logs_have_a_line_per_request_with_its_id_and_no_secret(
    container: Container,
) -> None:
    tenant = new_tenant(container)
    headers = token_for(container, tenant, CredentialKind.SERVICE)
    secret = headers["Authorization"].removeprefix("Bearer ")
    port = free_port()
    url = container.settings.database_url
    server = roster(url, "serve", "--no-background", "--port", str(port), ROSTER_LOG_FORMAT="json")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/healthz", server)
        me = httpx.get(f"{base}/api/v1/me", headers=headers | {"X-Request-ID": "req-log-1"})
        assert me.status_code == 200
        httpx.get(f"{base}/invitations/rst.inv.{'x' * 30}", headers={"X-Request-ID": "req-log-2"})
    finally:
        code, said = stop(server)
    assert code == 0, said
    lines = [json.loads(line) for line in said.splitlines() if line.startswith("{")]
    assert lines, said
    assert all({"time", "level", "message"} <= line.keys() for line in lines)
    by_id = {line.get("request_id"): line for line in lines}
    me_line = by_id["req-log-1"]
    assert me_line["route"] == "/api/v1/me"
    assert (me_line["method"], me_line["status"]) == ("GET", 200)
    assert me_line["workspace"] == tenant.id
    assert me_line["duration_ms"] >= 0
    assert "req-log-2" in by_id
    assert secret not in said
    assert "x" * 30 not in said
