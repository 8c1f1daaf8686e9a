"""Schemathesis against our own /openapi.json: every operation, valid and invalid
input, as an admin with a personal token. No answer may be a server error, and
every answer must be one the document lists, in the shape it gives.

Bounded and repeatable: a committed seed, a few examples per operation, no
example database, no shrinking; on SQLite and PostgreSQL like every storage test.
"""

from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.strategies import SearchStrategy
from sqlalchemy import Engine

from roster.bootstrap import Container
from roster.config import Settings
from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import Role, Status
from roster.entrypoints.web.app import create_app
from tests.conftest import Tenant, new_tenant
from tests.e2e.conftest import add_user, token_for

SEED = 20260404
# Examples per operation and mode: enough to find what broke before, bounded so that
# both databases together stay near a minute as operations are added.
EXAMPLES = {"sqlite": 8, "postgresql": 4}
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
]


@dataclass(frozen=True)
class Fuzzed:
    container: Container
    tenant: Tenant
    schema: Any
    headers: dict[str, str]
    user_ids: list[str]
    examples: int


@pytest.fixture(scope="module")
def fuzzed(engine: Engine, database_url: str) -> Fuzzed:
    container = Container(settings=Settings(database_url=database_url), engine=engine)
    tenant = new_tenant(container)
    ids = [
        add_user(container, tenant, f"fz{i}@x.example", role=role, status=status)
        for i, (role, status) in enumerate(
            [
                (Role.MEMBER, Status.ACTIVE),
                (Role.MEMBER, Status.INACTIVE),
                (Role.MEMBER, Status.BLOCKED),
                (Role.ADMIN, Status.ACTIVE),
            ]
        )
    ]
    app = create_app(container)
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    examples = EXAMPLES[engine.dialect.name]
    loaded.config.generation.update(
        modes=list(schemathesis.GenerationMode), max_examples=examples, no_shrink=True
    )
    headers = token_for(container, tenant, CredentialKind.PERSONAL)
    return Fuzzed(container, tenant, loaded, headers, [*ids, tenant.owner.id], examples)


def test_no_operation_answers_a_server_error_or_breaks_its_schema(fuzzed: Fuzzed) -> None:
    failures: dict[str, str] = {}
    operations = [result.ok() for result in fuzzed.schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        for mode in schemathesis.GenerationMode:
            try:
                _fuzz(fuzzed, operation.as_strategy(mode))
            except (Exception, BaseExceptionGroup) as failure:
                failures[f"{mode.value} {operation.label}"] = str(failure)[:2000]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())


def _fuzz(fuzzed: Fuzzed, cases: SearchStrategy[Any]) -> None:
    @seed(SEED)
    @settings(
        max_examples=fuzzed.examples,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(cases)
    def run(case: Any) -> None:
        _call(fuzzed, case)

    run()


def _call(fuzzed: Fuzzed, case: Any) -> None:
    if "user_id" in (case.path_parameters or {}):
        # Half the time aim at a real user, so changes reach the rules, not just 404.
        generated = str(case.path_parameters["user_id"])
        if len(generated) % 2 == 0:
            case.path_parameters["user_id"] = fuzzed.user_ids[len(generated) % 5]
    headers = fuzzed.headers
    if case.method == "DELETE" and case.path.endswith("/sessions/current"):
        # Signing out revokes the token used: give it its own.
        headers = token_for(fuzzed.container, fuzzed.tenant, CredentialKind.PERSONAL)
    case.call_and_validate(headers=headers, checks=CHECKS)
