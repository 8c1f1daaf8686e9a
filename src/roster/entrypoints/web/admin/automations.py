"""Dashboard pages for automations: the rules list, the editor with the rule in plain
words, a dry-run preview, and each rule's runs with their per-user outcomes."""

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from roster.domain import errors
from roster.domain.rules.definition import USER_EVENTS, RuleInvalid, dormant_template
from roster.domain.rules.parse import parse_rule
from roster.domain.rules.runs import Rule
from roster.domain.rules.summary import summary
from roster.entrypoints.web.admin.automation_form import (
    EVENT_OPS,
    FIELD_CHOICES,
    REASONS,
    ROLES,
    STATUSES,
    Row,
    RuleForm,
    form_error,
    from_json,
    read_form,
    to_json,
)
from roster.entrypoints.web.admin.carried import carried_form, redirect_refused
from roster.entrypoints.web.admin.rendering import redirect, render
from roster.entrypoints.web.admin.session import CSRF_FIELD, AdminDep
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


@dataclass(frozen=True, slots=True)
class Submission:
    """What the editor holds: which of its two forms was sent (`form`: the fields;
    `json`: the Advanced box, as is), both views of the rule, and the errors."""

    editor: str
    form: RuleForm
    text: str
    data: Any
    errors: dict[str, str]


async def _posted(request: Request) -> dict[str, list[str]]:
    """The posted fields, each with all its values (condition rows are dynamic)."""
    fields = await request.form()
    return {k: [v for v in fields.getlist(k) if isinstance(v, str)] for k in fields}


PostedDep = Annotated[dict[str, list[str]], Depends(_posted)]


@router.get("/automations", response_class=HTMLResponse)
def rules_page(request: Request, admin: AdminDep, container: ContainerDep) -> HTMLResponse:
    rules = auto.list_rules(container.uow(), admin.workspace_id)
    return render(request, "automations/list.html", title="Automations", rules=rules)


@router.get("/automations/new", response_class=HTMLResponse)
def new_page(request: Request, admin: AdminDep, days: int = 90) -> HTMLResponse:
    """The editor, starting from the dormant-users template."""
    template = dormant_template(max(1, min(days, 3650)))
    fresh = _fresh(template)
    return _editor(request, None, _carried(request, fresh.form) or fresh)


def _fresh(data: dict[str, Any]) -> Submission:
    """The editor's state for a rule's JSON shape, nothing submitted yet."""
    return Submission("form", from_json(data), json.dumps(data, indent=2), data, {})


def _judged(posted: dict[str, list[str]], fallback: RuleForm) -> Submission:
    """The submission read and judged by the rule language. The form's fields are read
    when `editor` is `form`; otherwise the JSON in `definition` (what older clients
    and the Advanced box send), and the form keeps `fallback`."""
    if (posted.get("editor") or ["json"])[-1] == "form":
        form = read_form(posted)
        translated = to_json(form)
        errs = translated.errors or _rule_errors(translated.data, form_error)
        text = json.dumps(translated.data, indent=2)
        return Submission("form", form, text, translated.data, errs)
    text = (posted.get("definition") or [""])[-1]
    data, errs = _parsed(text)
    form = from_json(data) if data is not None else fallback
    return Submission("json", form, text, data, errs)


def _rule_errors(data: Any, shown: Callable[[RuleInvalid], dict[str, str]]) -> dict[str, str]:
    try:
        parse_rule(data)
    except RuleInvalid as bad:
        return shown(bad)
    return {}


def _json_error(bad: RuleInvalid) -> dict[str, str]:
    return {"definition": bad.detail}


def _editor(
    request: Request, rule: Rule | None, sub: Submission, status_code: int = 200
) -> HTMLResponse:
    words = None if sub.errors else _words(sub.data)
    return render(
        request,
        "automations/edit.html",
        status_code=status_code,
        title="Edit automation" if rule else "New automation",
        rule=rule,
        form=sub.form.with_blank_row(),
        blank=Row(),
        text=sub.text,
        editor=sub.editor,
        words=words,
        errors=sub.errors,
        choices=FORM_CHOICES,
    )


FORM_CHOICES = {
    "fields": FIELD_CHOICES,
    "statuses": STATUSES,
    "roles": ROLES,
    "reasons": REASONS,
    "event_ops": EVENT_OPS,
    "events": (*USER_EVENTS, "payment.failed", "payment.succeeded"),
}


def _words(data: Any) -> str | None:
    try:
        return summary(parse_rule(data))
    except (RuleInvalid, RecursionError):
        return None


def _parsed(text: str) -> tuple[Any, dict[str, str]]:
    if len(text) > 20_000:
        return None, {"definition": "This is too long: at most 20,000 characters."}
    try:
        data = json.loads(text)
    except ValueError as bad:
        return None, {"definition": f"This is not valid JSON: {bad}."}
    except RecursionError:
        return None, {"definition": "This is not valid JSON: it nests too deeply."}
    return data, _rule_errors(data, _json_error)


@router.post("/automations/summary")
def summary_of(admin: AdminDep, posted: PostedDep) -> JSONResponse:
    """The rule being edited in plain words, for the editor's script to keep in step:
    the same fields as saving, judged the same way, and nothing saved. With the form's
    fields, `definition` is the JSON they stand for (for the Advanced box)."""
    sub = _judged(posted, RuleForm())
    definition = sub.text if sub.editor == "form" else None
    if sub.errors:
        first = next(iter(sub.errors.values()))
        problem = f"Not complete yet: {first}"
        return JSONResponse({"summary": None, "problem": problem, "definition": definition})
    words = _words(sub.data)
    return JSONResponse({"summary": words, "problem": None, "definition": definition})


@router.post("/automations/new")
def create(
    request: Request,
    admin: AdminDep,
    container: ContainerDep,
    request_id: RequestIdDep,
    posted: PostedDep,
) -> Response:
    sub = _judged(posted, from_json(dormant_template()))
    if sub.errors:
        return _back(request, "/admin/automations/new", sub, posted)
    try:
        rule = auto.create_rule(
            container.uow(),
            workspace_id=admin.workspace_id,
            data=sub.data,
            created_by=admin.principal.actor,
            route=admin.principal.route,
            now=container.clock(),
            allow_private_webhooks=container.settings.webhook_allow_private,
            request_id=request_id,
        )
    except RuleInvalid as bad:
        return _back(request, "/admin/automations/new", _refused(sub, bad), posted)
    return redirect(request, f"/admin/automations/{rule.id}", flash="Automation saved.")


def _back(request: Request, url: str, sub: Submission, posted: dict[str, list[str]]) -> Response:
    """Post/Redirect/Get: back to the editor's page with the messages and every field
    as typed (condition rows are repeated fields: `name#n` keeps each value's place)."""
    typed = {
        f"{name}#{n}": value
        for name, values in posted.items()
        if name != CSRF_FIELD
        for n, value in enumerate(values)
    }
    return redirect_refused(request, url, errors=sub.errors, values=typed)


def _carried(request: Request, fallback: RuleForm) -> Submission | None:
    """The refused submission a POST left for this page, judged again as it was typed
    and shown with the messages it got (None: nothing carried)."""
    carried = carried_form(request)
    if carried is None:
        return None
    messages, typed = carried
    posted: dict[str, list[str]] = {}
    for key, value in typed.items():
        posted.setdefault(key.rsplit("#", 1)[0], []).append(value)
    sub = _judged(posted, fallback) if posted else _fresh(to_json(fallback).data)
    return replace(sub, errors=messages)


def _refused(sub: Submission, bad: RuleInvalid) -> Submission:
    """The submission with the service's refusal (a webhook to a private address)."""
    errs = form_error(bad) if sub.editor == "form" else _json_error(bad)
    return replace(sub, errors=errs)


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
    posted: PostedDep,
) -> Response:
    rule = _rule(container, admin, rule_id)
    sub = _judged(posted, from_json(rule.definition.as_json()))
    if sub.errors:
        return _back(request, f"/admin/automations/{rule_id}/edit", sub, posted)
    try:
        auto.update_rule(
            container.uow(),
            workspace_id=admin.workspace_id,
            rule_id=rule_id,
            data=sub.data,
            route=admin.principal.route,
            actor=admin.principal.actor,
            now=container.clock(),
            allow_private_webhooks=container.settings.webhook_allow_private,
            request_id=request_id,
        )
    except RuleInvalid as bad:
        return _back(request, f"/admin/automations/{rule_id}/edit", _refused(sub, bad), posted)
    return redirect(request, f"/admin/automations/{rule_id}", flash="Automation saved.")


@router.get("/automations/{rule_id}/edit", response_class=HTMLResponse)
def edit_page(
    request: Request, rule_id: str, admin: AdminDep, container: ContainerDep
) -> HTMLResponse:
    rule = _rule(container, admin, rule_id)
    fresh = _fresh(rule.definition.as_json())
    return _editor(request, rule, _carried(request, fresh.form) or fresh)


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
