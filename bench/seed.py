"""The one seeder of the benchmarks: a workspace with N users in a given mix,
loaded straight into the tables, and the tokens or session a benchmark signs in with.

The workspace and its owner are made through `create_workspace`, as in production;
the members go straight into `users` (COPY on PostgreSQL, one executemany in one
transaction on SQLite), with the counter row set to match: they are test data, not
the thing measured, and the services would take minutes for a million. No
creation audit events are written for them. Every choice of the mix is drawn from a
fixed random seed, so two runs seed the same users. Member i has the id `user_id(i)`
(primary-key order is i order) and the email `email(slug, i)`.

Afterwards `settle` gives the planner statistics (ANALYZE; on PostgreSQL also VACUUM,
since autovacuum may be off, and a CHECKPOINT) and closes the pooled connections,
so no plan prepared on the empty tables survives.
"""

import random
import secrets
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select, update

from roster.adapters.database import make_engine
from roster.adapters.migrator import upgrade
from roster.adapters.tables import user_counts, users, workspaces
from roster.bootstrap import Container
from roster.config import Settings
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services.access import create_token, sign_in
from roster.services.queries import user_counts_of
from roster.services.users import NewUser
from roster.services.workspaces import create_workspace

ACTOR = Actor(id=None, name="bench")
DORMANT = timedelta(days=200)
"""How long ago a dormant member was last seen: past any dormant rule's threshold."""
COLUMNS = (
    *("workspace_id", "id", "email", "name", "role", "status", "status_reason"),
    *("status_changed_at", "status_changed_by", "last_seen_at", "created_at", "version"),
)


@dataclass(frozen=True)
class Mix:
    """How the members are spread. Statuses and roles are drawn by weight; each member
    was last seen at a random instant within `seen_within` before now (never, if
    None), except the `dormant` share (every round(1 / share)-th member by id), last
    seen DORMANT ago. Blocked members carry the reason `needs_review`."""

    statuses: Mapping[Status, int] = field(default_factory=lambda: {Status.ACTIVE: 1})
    roles: Mapping[Role, int] = field(default_factory=lambda: {Role.MEMBER: 1})
    seen_within: timedelta | None = None
    dormant: float = 0.0


DIRECTORY = Mix(
    statuses={Status.ACTIVE: 78, Status.INACTIVE: 16, Status.BLOCKED: 6},
    seen_within=timedelta(minutes=200_000),
)
"""A directory as the users page and API list it: mostly Active, seen over ~4 months."""


@dataclass(frozen=True)
class Seeded:
    """A seeded workspace; `users` counts its members, not the owner; `seconds` is
    how long seeding took (None: an earlier run's workspace, reused)."""

    id: str
    slug: str
    owner_id: str
    owner_email: str
    users: int
    seconds: float | None

    def said(self, c: Container) -> str:
        """What a benchmark prints of its seeding."""
        dialect, url = c.engine.dialect.name, c.settings.database_url
        if self.seconds is None:
            return f"{dialect}: reusing {self.users:,} users in {url}"
        return f"{dialect}: seeded {self.users:,} users in {self.seconds:.0f} s into {url}"


def user_id(i: int) -> str:
    """Member i's id: the length of `new_id`'s, and in i order."""
    return f"usr_{i:028x}"


def email(slug: str, i: int) -> str:
    return f"user{i}@{slug}.example"


def container(url: str | None = None) -> Container:
    """A container on the database at `url` (a fresh SQLite file if None), migrated to
    the newest revision."""
    url = url or f"sqlite:///{tempfile.mkdtemp(prefix='roster-bench-')}/bench.db"
    engine = make_engine(url)
    upgrade(engine)
    return Container(settings=Settings(database_url=url), engine=engine)


def workspace(
    c: Container,
    users: int,
    mix: Mix | None = None,
    *,
    slug: str | None = None,
    password: str | None = None,
    now: datetime | None = None,
    created: datetime | None = None,
    reuse: bool = False,
) -> Seeded:
    """Workspace `slug` (a fresh random one if None) with an owner (with a password
    hash of `password`, if given) and `users` members in `mix`, created at `created`
    (default `now`, default the clock) and seen relative to `now`. With `reuse`, a
    workspace of that slug seeded by an earlier run is answered as it is."""
    started = time.perf_counter()
    slug = slug or f"bench-{secrets.token_hex(3)}"
    if reuse and (found := _existing(c.engine, slug)) is not None:
        return found
    now = now or c.clock()
    created = created or now
    ws, owner = create_workspace(
        c.uow(),
        slug=slug,
        name=None,
        route=Route.CLI,
        actor=ACTOR,
        now=created,
        owner=NewUser(email=f"owner@{slug}.example", name="Owner"),
        owner_password=password,
    )
    if users:
        _add_members(c.engine, ws.id, _members(ws.id, slug, users, mix or Mix(), now, created))
    return Seeded(ws.id, slug, owner.id, owner.email, users, time.perf_counter() - started)


def _add_members(engine: Engine, ws: str, rows: Iterator[tuple[object, ...]]) -> None:
    """The members' rows loaded, counted in the headcount (as a service would), settled."""
    counts: Counter[str] = Counter()
    status = COLUMNS.index("status")

    def tallied() -> Iterator[tuple[object, ...]]:
        for row in rows:
            counts[str(row[status])] += 1
            yield row

    load(engine, "users", COLUMNS, tallied())
    with engine.begin() as conn:
        col = user_counts.c
        conn.execute(
            update(user_counts)
            .where(col.workspace_id == ws)
            .values({col[s]: col[s] + n for s, n in counts.items()})
        )
    settle(engine)


def _existing(engine: Engine, slug: str) -> Seeded | None:
    with engine.connect() as conn:
        ws = conn.execute(select(workspaces.c.id).where(workspaces.c.slug == slug)).scalar()
        if ws is None:
            return None
        owner = conn.execute(
            select(users.c.id, users.c.email)
            .where(users.c.workspace_id == ws, users.c.role == Role.OWNER.value)
            .limit(1)
        ).one()
        counts = user_counts_of(conn, ws)
    members = sum(counts.of(s) for s in Status) - 1
    return Seeded(ws, slug, owner.id, owner.email, members, seconds=None)


def _members(
    ws: str, slug: str, n: int, mix: Mix, now: datetime, created: datetime
) -> Iterator[tuple[object, ...]]:
    """The rows of `n` members in `mix`, in the order of COLUMNS."""
    rng = random.Random(7)
    statuses, status_weights = [s.value for s in mix.statuses], list(mix.statuses.values())
    roles, role_weights = [r.value for r in mix.roles], list(mix.roles.values())
    every = round(1 / mix.dormant) if mix.dormant else 0
    span = int(mix.seen_within.total_seconds() // 60) if mix.seen_within else 0
    blocked, reason = Status.BLOCKED.value, ReasonCode.NEEDS_REVIEW.value
    for i in range(n):
        status = rng.choices(statuses, status_weights)[0]
        role = rng.choices(roles, role_weights)[0]
        if every and i % every == 0:
            seen: datetime | None = now - DORMANT
        else:
            seen = now - timedelta(minutes=rng.randrange(span)) if span else None
        why = reason if status == blocked else None
        yield (ws, user_id(i), email(slug, i), f"User {i}", role, status, why, created, "bench",
               seen, created, 1)  # fmt: skip


def load(
    engine: Engine, table: str, columns: Sequence[str], rows: Iterable[tuple[object, ...]]
) -> None:
    """`rows` into `table` in one transaction, on a connection of its own (closed
    afterwards): COPY on PostgreSQL, one executemany on SQLite."""
    raw = engine.raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    raw.detach()  # whatever the load sets on it must not outlive the load in the pool
    names = ", ".join(columns)
    try:
        if isinstance(driver, sqlite3.Connection):
            _insert(
                driver,
                f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})",
                rows,
            )
        else:
            with driver.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def _insert(conn: sqlite3.Connection, sql: str, rows: Iterable[tuple[object, ...]]) -> None:
    """Timestamps as SQLite keeps them (naive UTC text), in one transaction."""
    conn.execute("PRAGMA cache_size = -262144")  # 256 MiB: the indexes stay in memory
    conn.execute("BEGIN")  # the engine leaves the driver in autocommit
    conn.executemany(sql, (tuple(_sqlite(v) for v in row) for row in rows))


def _sqlite(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


def settle(engine: Engine) -> None:
    """Planner statistics for every table, and no pooled connection holding a plan
    made before them. On PostgreSQL, VACUUM also sets the hint bits of the freshly
    loaded rows (else whichever contender runs first pays for writing every page
    once) and CHECKPOINT leaves every contender the same clean start."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
            conn.exec_driver_sql("CHECKPOINT")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def token(
    c: Container,
    ws: Seeded,
    kind: CredentialKind = CredentialKind.PERSONAL,
    user: str | None = None,
) -> str:
    """A new token in `ws`: a personal one of `user` (default the owner), or a
    workspace-wide one (scim, service)."""
    personal = kind == CredentialKind.PERSONAL
    _, secret = create_token(
        c.uow(),
        workspace_id=ws.id,
        kind=kind,
        name="bench",
        user_id=(user or ws.owner_id) if personal else None,
        now=c.clock(),
        route=Route.CLI,
        actor=ACTOR,
    )
    return secret


def session(c: Container, ws: Seeded, password: str) -> str:
    """A dashboard session of the owner, signed in with `password`."""
    signed = sign_in(
        c.uow(), workspace=ws.slug, email=ws.owner_email, password=password, now=c.clock(),
        kind=CredentialKind.SESSION,
    )  # fmt: skip
    return signed.token
