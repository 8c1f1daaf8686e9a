"""Dashboard pages for automations: the rules list, the editor with the rule in plain
words, a dry-run preview, and each rule's runs with their per-user outcomes."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from roster.domain import errors
from roster.domain.rules.definition import RuleInvalid, dormant_template
from roster.domain.rules.parse import parse_rule
from roster.domain.rules.runs import Rule
from roster.domain.rules.summary import summary
from roster.entrypoints.web.admin.rendering import redirect, render
from roster.entrypoints.web.admin.session import AdminDep
from roster.entrypoints.web.admin.views import PageNotFound, reading
from roster.entrypoints.web.deps import ContainerDep, RequestIdDep
from roster.services import automations as auto
from roster.services import queries

router = APIRouter()


def _rule(container: ContainerDep, admin: AdminDep, rule_id: str) -> Rule:
    try:
        return auto.get_rule(container.uow(), admin.workspace_id, rule_id)
    except errors.NotFound as missing:
        raise PageNotFound(missing.detail) from missing


@router.get("/automations", response_class=HTMLResponse)
def rules_page(request: Request, admin: AdminDep, container: ContainerDep) -> HTMLResponse:
    rules = auto.list_rules(container.uow(), admin.workspace_id)
    return render(request, "automations/list.html", title="Automations", rules=rules)


@router.get("/automations/new", response_class=HTMLResponse)
def new_page(request: Request, admin: AdminDep, days: int = 90) -> HTMLResponse:
    """The editor, starting from the dormant-users template."""
    template = dormant_template(max(1, min(days, 3650)))
    return _editor(request, None, json.dumps(template, indent=2), {})


def _editor(
    request: Request, rule: Any, text: str, errs: dict[str, str], status_code: int = 200
) -> HTMLResponse:
    try:
        words = summary(parse_rule(json.loads(text)))
    except (ValueError, RuleInvalid, RecursionError):
        words = None
    return render(
        request,
        "automations/edit.html",
        status_code=status_code,
        title="Edit automation" if rule else "New automation",
        rule=rule,
        text=text,
        words=words,
        errors=errs,
    )


def _parsed(text: str) -> tuple[Any, dict[str, str]]:
    try:
        data = json.loads(text)
    except ValueError as bad:
        return None, {"definition": f"This is not valid JSON: {bad}."}
    except RecursionError:
        return None, {"definition": "This is not valid JSON: it nests too deeply."}
    try:
        parse_rule(data)
    except RuleInvalid as bad:
        return None, {"definition": bad.detail}
    return data, {}


@router.post("/automations/new")
def create(
    request: Request,
    admin: AdminDep,
    container: ContainerDep,
    request_id: RequestIdDep,
    definition: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    data, errs = _parsed(definition)
    if errs:
        return _editor(request, None, definition, errs, 422)
    rule = auto.create_rule(
        container.uow(),
        workspace_id=admin.workspace_id,
        data=data,
        created_by=admin.principal.actor,
        route=admin.principal.route,
        now=container.clock(),
        allow_private_webhooks=container.settings.webhook_allow_private,
        request_id=request_id,
    )
    return redirect(request, f"/admin/automations/{rule.id}", flash="Automation saved.")


@router.get("/automations/{rule_id}", response_class=HTMLResponse)
def rule_page(
    request: Request, rule_id: str, admin: AdminDep, container: ContainerDep
) -> HTMLResponse:
    rule = _rule(container, admin, rule_id)
    runs = auto.list_runs(container.uow(), admin.workspace_id, rule_id, limit=50, before=None)
    text = json.dumps(rule.definition.as_json(), indent=2)
    return render(
        request, "automations/rule.html", title=rule.definition.name, rule=rule, runs=runs,
        text=text,
    )  # fmt: skip


@router.post("/automations/{rule_id}")
def save(
    request: Request,
    rule_id: str,
    admin: AdminDep,
    container: ContainerDep,
    request_id: RequestIdDep,
    definition: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    rule = _rule(container, admin, rule_id)
    data, errs = _parsed(definition)
    if errs:
        return _editor(request, rule, definition, errs, 422)
    auto.update_rule(
        container.uow(),
        workspace_id=admin.workspace_id,
        rule_id=rule_id,
        data=data,
        route=admin.principal.route,
        actor=admin.principal.actor,
        now=container.clock(),
        allow_private_webhooks=container.settings.webhook_allow_private,
        request_id=request_id,
    )
    return redirect(request, f"/admin/automations/{rule_id}", flash="Automation saved.")


@router.get("/automations/{rule_id}/edit", response_class=HTMLResponse)
def edit_page(
    request: Request, rule_id: str, admin: AdminDep, container: ContainerDep
) -> HTMLResponse:
    rule = _rule(container, admin, rule_id)
    return _editor(request, rule, json.dumps(rule.definition.as_json(), indent=2), {})


@router.post("/automations/{rule_id}/toggle")
def toggle(
    request: Request,
    rule_id: str,
    admin: AdminDep,
    container: ContainerDep,
    request_id: RequestIdDep,
) -> Response:
    rule = _rule(container, admin, rule_id)
    auto.set_enabled(
        container.uow(),
        workspace_id=admin.workspace_id,
        rule_id=rule_id,
        enabled=not rule.enabled,
        route=admin.principal.route,
        actor=admin.principal.actor,
        now=container.clock(),
        request_id=request_id,
    )
    word = "disabled" if rule.enabled else "enabled"
    return redirect(request, f"/admin/automations/{rule_id}", flash=f"Automation {word}.")


@router.post("/automations/{rule_id}/runs")
def start(
    request: Request,
    rule_id: str,
    admin: AdminDep,
    container: ContainerDep,
    dry_run: Annotated[str, Form()] = "",
) -> Response:
    """Run it now, or preview it (a dry run: outcomes recorded, nothing changed)."""
    _rule(container, admin, rule_id)
    try:
        run = auto.start_run(
            container.uow(),
            workspace_id=admin.workspace_id,
            rule_id=rule_id,
            dry_run=dry_run == "1",
            clock=container.clock,
            tuning=container.jobs,
        )
    except errors.InvalidInput as refused:
        return redirect(request, f"/admin/automations/{rule_id}", flash=refused.detail)
    return redirect(request, f"/admin/automations/{rule_id}/runs/{run.id}")


@router.get("/automations/{rule_id}/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request,
    rule_id: str,
    run_id: str,
    admin: AdminDep,
    container: ContainerDep,
    after: str | None = None,
) -> HTMLResponse:
    rule = _rule(container, admin, rule_id)
    try:
        view = auto.read_run(container.uow(), admin.workspace_id, rule_id, run_id)
    except errors.NotFound as missing:
        raise PageNotFound(missing.detail) from missing
    outcomes = auto.list_outcomes(
        container.uow(), admin.workspace_id, rule_id, run_id, after=after, limit=100
    )
    return render(
        request, "automations/run.html", title="Automation run", rule=rule, view=view,
        outcomes=outcomes, next_after=outcomes[-1].user_id if len(outcomes) == 100 else None,
    )  # fmt: skip


@router.get("/users/{user_id}/automation-runs", response_class=HTMLResponse)
def user_runs_page(
    request: Request, user_id: str, admin: AdminDep, container: ContainerDep
) -> HTMLResponse:
    """The automation runs that touched one user (a companion to their profile)."""
    with reading(container) as conn:
        try:  # another workspace's user is not found, like on the profile
            queries.user_by_id(conn, admin.workspace_id, user_id)
        except errors.NotFound as missing:
            raise PageNotFound(missing.detail) from None
    touched = auto.runs_for_user(container.uow(), admin.workspace_id, user_id, limit=100)
    return render(
        request, "automations/user_runs.html", title="Automation runs", user_id=user_id,
        touched=touched,
    )  # fmt: skip
