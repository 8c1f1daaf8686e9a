"""The demo workspace that `roster init --demo` seeds: about a thousand people with
realistic names, roles, statuses and last-seen dates, the same on every machine."""

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from roster.adapters.passwords import hash_password
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services.ports import UnitOfWork
from roster.services.users import NewUser, add_users
from roster.services.workspaces import create_workspace

DEMO_SLUG = "demo"
DEMO_EMAIL = "owner@demo.example"
DEMO_PASSWORD = "roster-demo-owner"  # noqa: S105 - printed for the demo on purpose
DEMO_USERS = 1000

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


def seed_demo(uow_factory: Callable[[], UnitOfWork], *, now: datetime) -> bool:
    """Create the demo workspace and its users, unless it exists. True if created."""
    with uow_factory() as uow:
        if uow.workspaces.get_by_slug(DEMO_SLUG) is not None:
            return False
    actor = Actor(id=None, name="roster init --demo")
    owner = NewUser(DEMO_EMAIL, "Olivia Owner", password_hash=hash_password(DEMO_PASSWORD))
    workspace, _ = create_workspace(
        uow_factory(),
        slug=DEMO_SLUG,
        name="Demo Company",
        owner=owner,
        route=Route.CLI,
        actor=actor,
        now=now,
    )
    with uow_factory() as uow:
        add_users(
            uow,
            workspace_id=workspace.id,
            new=demo_people(now),
            route=Route.CLI,
            actor=actor,
            now=now,
            batch_id=None,
        )
        uow.commit()
    return True


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
        status = rng.choices(list(Status), weights=(78, 16, 6))[0]
        reason = rng.choice(list(NOTES)) if status == Status.BLOCKED else None
        role = Role.ADMIN if rng.random() < 0.04 else Role.MEMBER
        seen = now - timedelta(days=rng.expovariate(1 / 20)) if rng.random() < 0.93 else None
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
