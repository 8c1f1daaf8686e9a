"""A SCIM User answered through user_json.document reads exactly as scim2-models
writes it (resources.user_model dumped): the same keys, in the same order, with the
same values, for every user shape it takes; and it declines every other shape."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from scim2_models import Context

from roster.domain.users import User
from roster.domain.vocabulary import ReasonCode, Role, Status
from roster.entrypoints.web.scim import queries, user_json
from roster.entrypoints.web.scim.resources import UserModel, user_model
from roster.services.scim import ScimUser

BASE = "http://testserver/scim/v2"
_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
_STAMPS = st.datetimes(
    min_value=datetime(1970, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


def _scim_user(
    status: Status,
    user_name: str,
    external_id: str | None,
    display_name: str | None,
    stamps: tuple[datetime, datetime | None, datetime | None],
    versions: tuple[int, int],
    attributes: dict[str, Any] | None = None,
) -> ScimUser:
    created, updated, changed = stamps
    user = User(
        id="usr_01J9ZQ3F0000000000000000",
        workspace_id="ws_1",
        email="someone@example.com",
        name="Someone",
        role=Role.MEMBER,
        status=status,
        status_reason=ReasonCode.ACCESS_VIOLATION if status == Status.BLOCKED else None,
        status_changed_at=changed,
        version=versions[0],
    )
    return ScimUser(
        user=user,
        created_at=created,
        user_name=user_name,
        external_id=external_id,
        display_name=display_name,
        attributes=attributes or {},
        scim_version=versions[1],
        updated_at=updated,
        linked=versions[1] > 0,
    )


def _by_scim2_models(su: ScimUser, groups: list[tuple[str, str]], context: Context) -> str:
    dumped = user_model(su, BASE, groups).model_dump(scim_ctx=context)
    return json.dumps(dumped, ensure_ascii=False)


users = st.builds(
    _scim_user,
    st.sampled_from(list(Status)),
    _TEXT.filter(bool) | st.emails(),
    st.none() | _TEXT,
    st.none() | _TEXT,
    st.tuples(_STAMPS, st.none() | _STAMPS, st.none() | _STAMPS),
    st.tuples(st.integers(1, 10**6), st.integers(0, 10**6)),
)
groups = st.lists(st.tuples(st.from_regex(r"grp_[0-9A-Z]{4}", fullmatch=True), _TEXT), max_size=3)


@settings(max_examples=400, deadline=None)
@given(users, groups)
@example(
    _scim_user(
        Status.BLOCKED,
        "Zoë.Ünïcødé@例え.jp",
        "",
        "",
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), None, None),
        (3, 0),
    ),
    [("grp_1", "Ingénierie 🚀")],
)
@example(
    _scim_user(
        Status.ACTIVE,
        "a@b.example",
        "00u1abcd",
        "A B",
        (datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 3, 0, 0, 0, 120000, tzinfo=UTC), None),
        (2, 5),
    ),
    [],
)
def test_a_user_reads_as_scim2_models_writes_them(
    su: ScimUser, groups: list[tuple[str, str]]
) -> None:
    for context in (Context.RESOURCE_QUERY_RESPONSE, Context.SEARCH_RESPONSE):
        fast = user_json.document(su, BASE, groups)
        assert json.dumps(fast, ensure_ascii=False) == _by_scim2_models(su, groups, context)


def test_the_last_modification_is_the_latest_of_the_three_dates() -> None:
    day = datetime(2026, 5, 1, tzinfo=UTC)
    su = _scim_user(
        Status.INACTIVE, "x", None, None, (day, day + timedelta(1), day + timedelta(2)), (2, 1)
    )
    fast = user_json.document(su, BASE, None)
    assert fast is not None
    assert fast["meta"]["lastModified"] == "2026-05-03T00:00:00Z"
    assert json.dumps(fast) == _by_scim2_models(su, [], Context.RESOURCE_QUERY_RESPONSE)


def test_a_user_with_stored_attributes_is_left_to_scim2_models() -> None:
    su = _scim_user(
        Status.ACTIVE,
        "x@y.example",
        None,
        None,
        (datetime(2026, 1, 1, tzinfo=UTC), None, None),
        (1, 1),
        {"name": {"givenName": "X"}},
    )
    assert user_json.document(su, BASE, None) is None


def test_a_request_naming_attributes_is_left_to_scim2_models() -> None:
    su = _scim_user(
        Status.ACTIVE, "x", None, None, (datetime(2026, 1, 1, tzinfo=UTC), None, None), (1, 0)
    )
    for params in ({"attributes": "userName"}, {"excludedAttributes": "groups"}):
        search = queries.search_request(UserModel, params)
        assert user_json.document(su, BASE, None, search) is None
    plain = queries.search_request(UserModel, {"filter": 'userName eq "x"'})
    assert user_json.document(su, BASE, None, plain) is not None
