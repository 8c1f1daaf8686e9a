"""Adding a user and editing a user's name and role on the dashboard.

The same services as the API's POST /users and PATCH /users/{id}, so the same rules
(only an owner makes owners, the last active owner stays one, a Blocked user's
identity is frozen but on the profile) and the same audit entries. Errors show by
their field; a change redirects to the user's profile.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from roster.domain import errors
from roster.domain.users import User
from roster.domain.vocabulary import Role
from roster.entrypoints.web.admin.carried import redirect_refused
from roster.entrypoints.web.admin.rendering import redirect, render
from roster.entrypoints.web.admin.session import AdminDep
from roster.entrypoints.web.admin.views import PageNotFound, reading
from roster.entrypoints.web.deps import ContainerDep, RequestIdDep
from roster.services import queries
from roster.services.users import NewUser, create_user, update_user

router = APIRouter()
ROLES = list(Role)


def _field(refused: errors.DomainError, wrong_input: str) -> str:
    """Which form field a refusal belongs by."""
    if isinstance(refused, errors.Forbidden | errors.LastOwner):
        return "role"
    if isinstance(refused, errors.InvalidInput | errors.UserBlocked):
        return wrong_input
    return "form"


def _form(
    request: Request, template: str, *, status_code: int = 200, **context: object
) -> HTMLResponse:
    return render(request, template, status_code=status_code, roles=ROLES, **context)


@router.get("/users/new", response_class=HTMLResponse)
def new_user_page(request: Request, admin: AdminDep) -> HTMLResponse:
    values = {"role": Role.MEMBER.value}
    return _form(request, "users/new.html", title="Add a user", values=values, errors={})


@router.post("/users/new")
def add_user(
    request: Request,
    admin: AdminDep,
    container: ContainerDep,
    request_id: RequestIdDep,
    email: Annotated[str, Form(max_length=320)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Add an Active user (who signs in after a password reset or an invitation)."""
    values = {"email": email, "name": name, "role": role}
    problem = _missing(name, role)
    if problem:
        return redirect_refused(request, "/admin/users/new", errors=problem, values=values)
    try:
        user = create_user(
            container.uow(),
            workspace_id=admin.workspace_id,
            new=NewUser(email=email, name=name.strip(), role=Role(role)),
            route=admin.principal.route,
            actor=admin.principal.actor,
            now=container.clock(),
            request_id=request_id,
        )
    except errors.DomainError as refused:
        field = _field(refused, "email")
        return redirect_refused(
            request, "/admin/users/new", errors={field: refused.detail}, values=values
        )
    return redirect(request, f"/admin/users/{user.id}", flash=f"{user.name} added.")


def _missing(name: str, role: str) -> dict[str, str]:
    problem = {}
    if not name.strip():
        problem["name"] = "Write the user's name."
    if role not in Role._value2member_map_:
        problem["role"] = "Choose a role."
    return problem


@router.get("/users/{user_id}/edit", response_class=HTMLResponse)
def edit_page(request: Request, user_id: str, admin: AdminDep, container: ContainerDep) -> Response:
    user = _user(container, admin.workspace_id, user_id)
    values = {"name": user.name, "role": user.role.value, "version": str(user.version)}
    return _form(request, "users/edit.html", title=f"Edit {user.name}", user=user,
                 values=values, errors={})  # fmt: skip


@router.post("/users/{user_id}/edit")
def edit(
    request: Request,
    user_id: str,
    admin: AdminDep,
    container: ContainerDep,
    request_id: RequestIdDep,
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
    version: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Change the name and role; a stale form (someone changed the user since) is refused."""
    _user(container, admin.workspace_id, user_id)  # another workspace's user: 404
    typed = {"name": name, "role": role}  # shown again; the version comes fresh from the page
    problem = _missing(name, role)
    if problem:
        return redirect_refused(request, f"/admin/users/{user_id}/edit", errors=problem,
                                values=typed)  # fmt: skip
    try:
        update_user(
            container.uow(),
            workspace_id=admin.workspace_id,
            user_id=user_id,
            name=name.strip(),
            role=Role(role),
            expected_version=int(version) if version.isdigit() else None,
            route=admin.principal.route,
            actor=admin.principal.actor,
            now=container.clock(),
            request_id=request_id,
        )
    except errors.DomainError as refused:
        field = _field(refused, "name")
        return redirect_refused(request, f"/admin/users/{user_id}/edit",
                                errors={field: refused.detail}, values=typed)  # fmt: skip
    return redirect(request, f"/admin/users/{user_id}", flash="Name and role saved.")


def _user(container: ContainerDep, workspace_id: str, user_id: str) -> User:
    with reading(container) as conn:
        try:
            return queries.user_by_id(conn, workspace_id, user_id).user
        except errors.NotFound as gone:
            raise PageNotFound(gone.detail) from gone
