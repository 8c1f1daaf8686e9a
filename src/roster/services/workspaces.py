"""Creating workspaces and changing their settings."""

import re
from collections.abc import Mapping
from datetime import datetime
from types import EllipsisType

from roster.domain import errors
from roster.domain.audit import AuditKind, admin_action, changed_fields
from roster.domain.ids import new_id
from roster.domain.reviews import check_review_days
from roster.domain.reviews import review_days as days_by_reason
from roster.domain.users import Actor, User
from roster.domain.vocabulary import Role, Route, Status
from roster.domain.workspaces import Workspace, check_timezone
from roster.services.ports import UnitOfWork
from roster.services.users import NewUser, add_users, with_password

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
MAX_SEAT_LIMIT = 1_000_000_000  # as the API takes it; the column is a 32-bit integer


def create_workspace(
    uow: UnitOfWork,
    *,
    slug: str,
    name: str | None,
    owner: NewUser,
    route: Route,
    actor: Actor,
    now: datetime,
    owner_password: str | None = None,
) -> tuple[Workspace, User]:
    """A workspace, its counter row and its first owner (who signs in with
    `owner_password`, if given), in one transaction."""
    if not SLUG.match(slug):
        raise errors.InvalidInput(
            f"{slug!r} is not a valid workspace slug: use lowercase letters, digits and dashes."
        )
    owner = with_password(owner, owner_password)
    with uow:
        if uow.workspaces.get_by_slug(slug) is not None:
            raise errors.InvalidInput(f"A workspace with the slug {slug!r} already exists.")
        workspace = Workspace(id=new_id("ws"), slug=slug, name=name or slug, created_at=now)
        uow.workspaces.add(workspace)
        uow.counts.create(workspace.id)
        first = NewUser(
            email=owner.email,
            name=owner.name,
            role=Role.OWNER,
            status=Status.ACTIVE,
            password_hash=owner.password_hash,
        )
        [user] = add_users(
            uow,
            workspace_id=workspace.id,
            new=[first],
            route=route,
            actor=actor,
            now=now,
            batch_id=None,
        )
        uow.commit()
        return workspace, user


def update_settings(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    allow_api_unblock: bool | None = None,
    reactivate_on_sign_in: bool | None = None,
    seat_limit: int | EllipsisType | None = ...,
    notify_users_on_status_change: bool | None = None,
    review_digest: bool | None = None,
    review_days: Mapping[str, int] | None = None,
    timezone: str | None = None,
    route: Route,
    actor: Actor,
    now: datetime,
    request_id: str | None = None,
) -> Workspace:
    """Change the settings given; `seat_limit=None` removes the limit. What changed
    is audited (`workspace.settings_changed`, each field before and after), so a
    setting switched on for one act and off again leaves its trace. `review_days`
    sets the days from a block to its review for the reasons it names; `timezone`
    (an IANA name) is where the workspace's days start and end: billing days, review
    dates and daily schedules follow it."""
    if isinstance(seat_limit, int) and seat_limit < 0:
        raise errors.InvalidInput("The seat limit cannot be negative.")
    if isinstance(seat_limit, int) and seat_limit > MAX_SEAT_LIMIT:
        raise errors.InvalidInput(f"The seat limit can be at most {MAX_SEAT_LIMIT:,}.")
    review_days = check_review_days(review_days) if review_days else None
    timezone = check_timezone(timezone) if timezone is not None else None
    with uow:
        workspace = uow.workspaces.get(workspace_id)
        if workspace is None:
            raise errors.NotFound("No such workspace.")
        before = _settings(workspace)
        if review_days:
            workspace.review_days = {**(workspace.review_days or {}), **review_days}
        if allow_api_unblock is not None:
            workspace.allow_api_unblock = allow_api_unblock
        if reactivate_on_sign_in is not None:
            workspace.reactivate_on_sign_in = reactivate_on_sign_in
        if not isinstance(seat_limit, EllipsisType):
            workspace.seat_limit = seat_limit
        if notify_users_on_status_change is not None:
            workspace.notify_users_on_status_change = notify_users_on_status_change
        if review_digest is not None:
            workspace.review_digest = review_digest
        if timezone is not None:
            workspace.timezone = timezone
        changes = changed_fields(before, _settings(workspace))
        if not changes:
            return workspace
        uow.workspaces.save_settings(workspace)
        entry = admin_action(
            AuditKind.SETTINGS_CHANGED,
            changes,
            workspace_id=workspace_id,
            route=route,
            actor=actor,
            at=now,
            entry_id=new_id("evt"),
            request_id=request_id,
        )
        uow.audit.append([entry])
        uow.commit()
        return workspace


def _settings(workspace: Workspace) -> dict[str, object]:
    settings: dict[str, object] = {
        "allow_api_unblock": workspace.allow_api_unblock,
        "reactivate_on_sign_in": workspace.reactivate_on_sign_in,
        "seat_limit": workspace.seat_limit,
        "notify_users_on_status_change": workspace.notify_users_on_status_change,
        "review_digest": workspace.review_digest,
        "timezone": workspace.timezone,
    }
    for reason, days in days_by_reason(workspace.review_days).items():
        settings[f"review_days.{reason.value}"] = days
    return settings
