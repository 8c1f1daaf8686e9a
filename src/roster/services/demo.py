"""The demo workspace that `roster init --demo` seeds: about a thousand people with
realistic names, roles and last-seen dates, and ninety days of their history
(services/demo_history.py): changes on every route, refused attempts, three sample
automations, a finished bulk action and a usage curve for billing."""

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from roster.adapters.passwords import hash_password
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services import demo_history, jobs
from roster.services.ports import UnitOfWork
from roster.services.users import NewUser, add_users
from roster.services.workspaces import create_workspace, update_settings

DEMO_SLUG = "demo"
DEMO_EMAIL = "owner@demo.example"
DEMO_PASSWORD = "roster-demo-owner"  # noqa: S105 - printed for the demo on purpose
DEMO_USERS = 1000
FOUNDING_USERS = 450  # imported on the first day; the others join over the 90 days

FIRST = [
    "Ada",
    "Alan",
    "Amara",
    "Anya",
    "Arjun",
    "Beatriz",
    "Bilal",
    "Carmen",
    "Chen",
    "Chloe",
    "Dario",
    "Dmitri",
    "Elena",
    "Emeka",
    "Fatima",
    "Felix",
    "Grace",
    "Hana",
    "Hugo",
    "Ines",
    "Ivan",
    "Jamal",
    "Jana",
    "Jonas",
    "Kai",
    "Kenji",
    "Lara",
    "Leila",
    "Liam",
    "Lucia",
    "Maya",
    "Mateo",
    "Mei",
    "Nadia",
    "Nikhil",
    "Noah",
    "Olga",
    "Omar",
    "Paula",
    "Priya",
    "Rafael",
    "Rosa",
    "Sami",
    "Sara",
    "Sofia",
    "Tariq",
    "Tom",
    "Uma",
    "Vera",
    "Wei",
    "Yara",
    "Yusuf",
    "Zara",
    "Zoe",
]
LAST = [
    "Abbott",
    "Adeyemi",
    "Alvarez",
    "Bauer",
    "Becker",
    "Bianchi",
    "Chen",
    "Costa",
    "Das",
    "Dubois",
    "Eriksson",
    "Fischer",
    "Garcia",
    "Gupta",
    "Haddad",
    "Hansen",
    "Ito",
    "Jensen",
    "Kim",
    "Kowalski",
    "Larsen",
    "Lopez",
    "Martin",
    "Meyer",
    "Moreau",
    "Nakamura",
    "Novak",
    "Okafor",
    "Olsen",
    "Park",
    "Patel",
    "Rossi",
    "Santos",
    "Schmidt",
    "Silva",
    "Singh",
    "Smith",
    "Tanaka",
    "Tran",
    "Weber",
    "Wilson",
    "Yilmaz",
    "Zhang",
]
NOTES = {
    ReasonCode.PAYMENT_DISPUTE: "Chargeback opened on the last invoice.",
    ReasonCode.ACCESS_VIOLATION: "Shared credentials with an outside party.",
    ReasonCode.NEEDS_REVIEW: "Flagged by security for review.",
    ReasonCode.UNRESOLVED_ISSUE: "Open support escalation.",
}


def seed_demo(uow_factory: Callable[[], UnitOfWork], *, now: datetime, tuning: jobs.Tuning) -> bool:
    """Create the demo workspace, its people and their last 90 days, unless the
    workspace exists. True if created.

    The workspace is made at 08:00 the day before the history's first day and its
    founding people imported then; the history replays forward from there, ending
    yesterday, so every audit entry is later than the one before it and none is
    after `now`.
    """
    with uow_factory() as uow:
        if uow.workspaces.get_by_slug(DEMO_SLUG) is not None:
            return False
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=demo_history.HISTORY_DAYS + 1, hours=-8)
    people = demo_people(now)
    seed = NewUser(
        DEMO_EMAIL,
        "Olivia Owner",
        password_hash=hash_password(DEMO_PASSWORD),
        last_seen_at=now - timedelta(hours=2),
    )
    workspace, owner = create_workspace(
        uow_factory(),
        slug=DEMO_SLUG,
        name="Demo Company",
        owner=seed,
        route=Route.CLI,
        actor=Actor(id=None, name="roster init --demo"),
        now=start,
    )
    admin = Actor(id=owner.id, name=owner.name, user_id=owner.id, role=Role.OWNER)
    story = demo_history.Story(
        uow_factory,
        tuning,
        workspace.id,
        admin,
        random.Random(20261207),  # noqa: S311 - a fixed seed: the same history everywhere
        start,
    )
    story.meet(owner, seed.last_seen_at)
    update_settings(
        uow_factory(),
        workspace_id=workspace.id,
        reactivate_on_sign_in=True,
        route=Route.ADMIN_PROFILE,
        actor=admin,
        now=story.at(5),
    )
    _found(story, people[:FOUNDING_USERS])
    joiners = [
        replace(p, status=Status.ACTIVE, reason_code=None, note=None)
        for p in people[FOUNDING_USERS:]
    ]
    demo_history.replay(story, joiners, start)
    demo_history.finish(story, now)
    return True


def _found(story: demo_history.Story, people: list[NewUser]) -> None:
    """The people of the first day, imported at once (from the old directory)."""
    now = story.at(10)
    with story.uow() as uow:
        made = add_users(
            uow,
            workspace_id=story.workspace_id,
            new=people,
            route=Route.CLI,
            actor=Actor(id=None, name="roster users import"),
            now=now,
            batch_id=None,
        )
        uow.commit()
    for user, person in zip(made, people, strict=True):
        story.meet(user, person.last_seen_at)


def demo_people(now: datetime, count: int = DEMO_USERS) -> list[NewUser]:
    rng = random.Random(20261128)  # noqa: S311 - a fixed seed: the same demo everywhere
    people: list[NewUser] = []
    used: set[str] = set()
    while len(people) < count:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}@demo.example".lower()
        if email in used:
            email = f"{first}.{last}{len(people)}@demo.example".lower()
        used.add(email)
        status = rng.choices(list(Status), weights=(90, 7, 3))[0]
        reason = rng.choice(list(NOTES)) if status == Status.BLOCKED else None
        role = Role.ADMIN if rng.random() < 0.04 else Role.MEMBER
        seen = now - timedelta(days=rng.expovariate(1 / 12)) if rng.random() < 0.93 else None
        people.append(
            NewUser(
                email,
                f"{first} {last}",
                role,
                status,
                reason,
                NOTES.get(reason) if reason else None,
                None,
                seen,
            )
        )
    return people
