"""The users list writes its JSON from the stored rows with orjson: for any rows it
must give byte for byte the document pydantic writes for `UserList` built from the
same users (`UserOut.of`), whatever the text, the datetimes, the caller's route and
the workspace's policy."""

from collections import namedtuple
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import example, given, settings
from hypothesis import strategies as st

from roster.domain.transitions import Policy
from roster.domain.users import User
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.entrypoints.web.api.schemas import UserList, UserOut, user_list_json
from roster.services.queries import UserView

# The `users` columns the list selects, in a different order than the document's
# (the JSON takes each by name).
Row = namedtuple(
    "Row",
    "workspace_id version created_at id email name role status status_reason "
    "status_note status_changed_at status_changed_by last_seen_at",
)

_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
_STAMPS = st.datetimes(
    min_value=datetime(1, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
    max_value=datetime(9999, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
_ROWS = st.builds(
    Row,
    workspace_id=st.just("ws_1"),
    version=st.integers(1, 2**62),
    created_at=_STAMPS,
    id=_TEXT,
    email=_TEXT,
    name=_TEXT,
    role=st.sampled_from([r.value for r in Role]),
    status=st.sampled_from([s.value for s in Status]),
    status_reason=st.none() | st.sampled_from([r.value for r in ReasonCode]),
    status_note=st.none() | _TEXT,
    status_changed_at=st.none() | _STAMPS,
    status_changed_by=st.none() | _TEXT,
    last_seen_at=st.none() | _STAMPS,
)


def _pydantic(rows: list[Row], cursor: str | None, route: Route, policy: Policy) -> bytes:
    users = [
        UserView(
            User(
                id=r.id,
                workspace_id=r.workspace_id,
                email=r.email,
                name=r.name,
                role=Role(r.role),
                status=Status(r.status),
                status_reason=ReasonCode(r.status_reason) if r.status_reason else None,
                status_note=r.status_note,
                status_changed_at=r.status_changed_at,
                status_changed_by=r.status_changed_by,
                version=r.version,
            ),
            last_seen_at=r.last_seen_at,
            created_at=r.created_at,
        )
        for r in rows
    ]
    items = [UserOut.of(u, route, policy) for u in users]
    return UserList(items=items, next_cursor=cursor).model_dump_json().encode()


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(_ROWS, max_size=6),
    cursor=st.none() | _TEXT,
    route=st.sampled_from(list(Route)),
    policy=st.builds(Policy, allow_api_unblock=st.booleans()),
)
@example(
    rows=[
        Row(
            workspace_id="ws_1",
            version=3,
            created_at=datetime(2026, 12, 3, 8, 0, tzinfo=UTC),  # whole seconds: no fraction
            id="usr_1",
            email="a@b.example",
            name='Quote " back\\slash \u2028 \x1f «é» 🙂',
            role="admin",
            status="blocked",
            status_reason="payment_dispute",
            status_note="line\nbreak\ttab\r",
            status_changed_at=datetime(2026, 12, 3, 8, 0, 0, 1, tzinfo=UTC),
            status_changed_by="usr_2",
            last_seen_at=None,
        )
    ],
    cursor=None,
    route=Route.ADMIN_API,
    policy=Policy(),
)
def test_the_list_json_is_what_pydantic_writes(
    rows: list[Row], cursor: str | None, route: Route, policy: Policy
) -> None:
    assert user_list_json(rows, cursor, route, policy) == _pydantic(rows, cursor, route, policy)


def test_a_zero_offset_that_is_not_utc_reads_the_same() -> None:
    """PostgreSQL's driver may hand back its own zero-offset zone; both write `Z`."""
    stamp = datetime(2026, 12, 3, 8, 30, 15, 250000, tzinfo=timezone(timedelta(0), "GMT"))
    row = Row("ws_1", 1, stamp, "usr_1", "a@b.example", "A", "member", "active", None,
              None, stamp, None, stamp)  # fmt: skip
    body = user_list_json([row], None, Route.ADMIN_API, Policy())
    assert body == _pydantic([row], None, Route.ADMIN_API, Policy())
    assert b'"created_at":"2026-12-03T08:30:15.250000Z"' in body
