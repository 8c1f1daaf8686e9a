"""The users page's rows, built in Python, are byte for byte what the template's
Jinja2 loop gave for the same users, whatever their names and emails hold; and the
dates read as strftime wrote them."""

from datetime import UTC, date, datetime

from hypothesis import example, given
from hypothesis import strategies as st
from jinja2 import Environment

from roster.entrypoints.web.admin.rendering import when
from roster.entrypoints.web.admin.user_table import table_rows
from roster.services.admin_queries import ListedUser

# The loop as the template held it before the rows moved to user_table.py.
JINJA_ROWS = """\
    {% for id, name, email, role, status_value, status_label, seen in rows %}
      <tr>
        <td><input type="checkbox" name="user_ids" value="{{ id }}" id="select-{{ id }}" aria-label="Select {{ name }}"></td>
        <td><a href="/admin/users/{{ id }}">{{ name }}</a></td>
        <td>{{ email }}</td>
        <td>{{ role }}</td>
        <td><span class="badge badge-{{ status_value }}">{{ status_label }}</span></td>
        <td>{{ seen }}</td>
      </tr>
    {% endfor %}"""  # noqa: E501
TEMPLATE = Environment(autoescape=True).from_string(JINJA_ROWS)

text = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
moments = st.datetimes(timezones=st.just(UTC)) | st.none()
users = st.builds(
    ListedUser,
    id=text,
    name=text,
    email=text,
    role=st.sampled_from(["owner", "admin", "member"]) | text,
    status=st.sampled_from(["active", "inactive", "blocked"]) | text,
    last_seen_at=moments,
)


def _jinja(listed: list[ListedUser]) -> str:
    rows = [
        (u.id, u.name, u.email, u.role.capitalize(), u.status, u.status.capitalize(),
         u.last_seen_at.strftime("%Y-%m-%d %H:%M UTC") if u.last_seen_at else "never")
        for u in listed
    ]  # fmt: skip
    return TEMPLATE.render(rows=rows).removeprefix("    ")


@given(st.lists(users, max_size=5))
@example(
    [ListedUser("usr_1", '<b>O\'Neil & "Sons"</b>', "a&b@x.example", "admin", "blocked", None)]
)
@example([ListedUser("usr_2", "&lt;already&gt; {{ x }}", "é@漢字.example", "member", "active",
                     datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))])  # fmt: skip
@example([])
def test_the_rows_are_what_the_template_loop_rendered(listed: list[ListedUser]) -> None:
    assert str(table_rows(listed)) == _jinja(listed)


@given(st.datetimes() | st.datetimes(timezones=st.just(UTC)))
@example(datetime(999, 12, 31, 23, 59, tzinfo=UTC))
@example(datetime(9999, 1, 1, tzinfo=UTC))
def test_a_moment_reads_as_strftime_wrote_it(moment: datetime) -> None:
    assert when(moment) == moment.strftime("%Y-%m-%d %H:%M UTC")


def test_a_day_and_nothing_read_as_before() -> None:
    assert when(date(2026, 3, 4)) == "2026-03-04 00:00 UTC"  # type: ignore[arg-type]
    assert when(None) == "never"
