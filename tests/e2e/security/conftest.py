"""Helpers shared by the authorization matrix and the web security tests."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine, update

from roster.adapters.tables import webhook_endpoints
from tests.e2e.conftest import PASSWORD

ADMIN_EMAIL = "ada@x.example"


@pytest.fixture(autouse=True)
def _pause_webhook_endpoints(request: pytest.FixtureRequest) -> Iterator[None]:
    """The endpoints these tests subscribe point at addresses nobody answers (the
    sandbox has no DNS for them): paused once a test is done with the shared
    database, so no later test's delivery tick spends its time trying them."""
    yield
    if "engine" in request.fixturenames:
        engine: Engine = request.getfixturevalue("engine")
        with engine.begin() as conn:
            conn.execute(update(webhook_endpoints).values(enabled=False))


RULE = {
    "name": "Web rule",
    "enabled": False,
    "trigger": {"type": "schedule", "daily_at": "03:00"},
    "conditions": [{"field": "role", "op": "eq", "value": "member"}],
    "action": {"type": "set_status", "status": "inactive", "note": "web"},
}

# A valid form for every POST route, so that only the CSRF token decides.
FORM_DATA: dict[str, dict[str, str]] = {
    "/admin/sign-in": {"workspace": "", "email": ADMIN_EMAIL, "password": PASSWORD},
    "/admin/sign-out": {},
    "/admin/users/{user_id}/status": {"to": "blocked", "reason_code": "other", "version": "1"},
    "/admin/settings": {"seat_limit": "7"},
    "/admin/users/{user_id}/review": {"review_by": "2099-01-01", "review_note": "csrf"},
    "/admin/users/{user_id}/expiry": {"expires_on": "2031-01-01"},
    "/admin/tokens": {"kind": "service", "name": "csrf"},
    "/admin/tokens/{token_id}/revoke": {},
    "/admin/bulk-actions/new": {"status": "inactive", "q": "f"},
    "/admin/bulk-actions": {"status": "inactive", "q": "f", "nonce": "n1"},
    "/admin/automations/new": {"definition": json.dumps(RULE)},
    "/admin/automations/summary": {"definition": json.dumps(RULE)},
    "/admin/automations/{rule_id}": {"definition": json.dumps(RULE | {"name": "Changed"})},
    "/admin/automations/{rule_id}/toggle": {},
    "/admin/automations/{rule_id}/runs": {},
    "/invitations/{token}": {"name": "Ivy", "password": PASSWORD, "password_confirm": PASSWORD},
    "/admin/invitations": {"email": "invited@x.example", "role": "member"},
    "/admin/users/new": {"email": "added@x.example", "name": "Added", "role": "member"},
    "/admin/users/{user_id}/edit": {"name": "Renamed", "role": "member"},
    "/admin/invitations/{invitation_id}/resend": {},
    "/admin/invitations/{invitation_id}/revoke": {},
    "/admin/forgot-password": {"workspace": "", "email": ADMIN_EMAIL},
    "/admin/password-reset/{reset_token}": {"password": PASSWORD, "password_confirm": PASSWORD},
    "/admin/webhooks": {"url": "https://hooks.example/csrf", "events": "*"},
    "/admin/webhooks/{endpoint_id}/test": {},
    "/admin/webhooks/{endpoint_id}/rotate-secret": {},
    "/admin/webhooks/{endpoint_id}/enabled": {"enabled": "false"},
    "/admin/webhooks/{endpoint_id}/delete": {},
    "/admin/webhooks/{endpoint_id}/deliveries/{delivery_id}/retry": {},
}


def api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """Every (full path, route) the app answers, including routes of included
    routers, so that a new page or endpoint is found without being listed."""
    for route in app.routes:
        contexts: Any = getattr(route, "effective_route_contexts", None)
        if contexts is not None:  # FastAPI >= 0.16x keeps included routers as a tree
            for ctx in contexts():
                if isinstance(ctx.original_route, APIRoute):
                    yield ctx.path, ctx.original_route
        elif isinstance(route, APIRoute):
            yield route.path, route
