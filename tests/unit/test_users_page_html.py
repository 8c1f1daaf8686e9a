"""The users page built in Python (admin/users_page_html.py) is byte for byte what
Jinja2 renders from users/list.html in base.html, for any admin, flash message,
search text, status filter, counts, pager cursors and rows: names and text holding
`<`, `&`, quotes, `{{ }}`, entities and any other character included."""

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from roster.domain.vocabulary import Status
from roster.domain.workspaces import UserCounts
from roster.entrypoints.web.admin.rendering import NAV, templates
from roster.entrypoints.web.admin.session import CSRF_FIELD
from roster.entrypoints.web.admin.users_page_html import users_page_html
from roster.services.admin_queries import Page

TEMPLATE = templates.env.get_template("users/list.html")
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
tricky = st.sampled_from(["", "a b&<", "\"'>", "{{ x }}", "&amp;", "“é漢”", "50%/x?y=1#z"])
paths = st.sampled_from([*(path for _, path in NAV), "/admin/users/usr_1", "/admin", "/admin/x"])


class _User:
    def __init__(self, name: str, role: str) -> None:
        self.name, self.role = name, role


class _Admin:
    def __init__(self, name: str, role: str, csrf_token: str) -> None:
        self.user, self.csrf_token = _User(name, role), csrf_token


def _jinja(ctx: dict[str, Any]) -> str:
    """The page as render(request, "users/list.html", ...) built its context."""
    admin = _Admin(ctx["admin_name"], ctx["admin_role"], ctx["csrf_token"])
    context = {
        "admin": admin,
        "csrf_field": ctx["csrf_field"],
        "csrf_token": admin.csrf_token,
        "nav": ctx["nav"],
        "current": ctx["current"],
        "flash": ctx["flash"],
        "request": None,
        **{k: ctx[k] for k in ("title", "counts", "total", "statuses", "q", "status", "page")},
        "rows": Markup(ctx["rows"]),  # noqa: S704 - table_rows's markup, placed as it is
    }
    return TEMPLATE.render(context)


contexts = st.fixed_dictionaries(
    {
        "title": st.just("Users") | text,
        "admin_name": text | tricky,
        "admin_role": st.sampled_from(["owner", "admin", "payment_dispute"]) | text,
        "csrf_field": st.just(CSRF_FIELD),
        "csrf_token": st.text("0123456789abcdef", min_size=64, max_size=64) | tricky,
        "nav": st.just(NAV),
        "current": paths | text,
        "flash": st.none() | text | tricky,
        "counts": st.builds(
            UserCounts, st.integers(0, 10**6), st.integers(0, 99), st.integers(0, 9)
        ),
        "total": st.integers(0, 10**7),
        "statuses": st.just(list(Status)),
        "q": st.just("") | text | tricky,
        "status": st.none() | st.sampled_from(list(Status)),
        "page": st.builds(
            Page,
            st.just([]),
            st.none() | st.just("usr_00ff") | text | tricky,
            st.none() | st.just("usr_0001") | text | tricky,
        ),
        "rows": st.just("") | text | st.just("\n      <tr>\n        <td>x</td>\n      </tr>\n    "),
    }
)


@settings(max_examples=400, deadline=None)
@given(contexts)
@example(
    {
        "title": "Users", "admin_name": "Bo <b>", "admin_role": "owner",
        "csrf_field": CSRF_FIELD, "csrf_token": "c" * 64, "nav": NAV,
        "current": "/admin/users", "flash": "Hi & bye", "counts": UserCounts(3, 2, 1),
        "total": 6, "statuses": list(Status), "q": "a b&<", "status": Status.BLOCKED,
        "page": Page([], "usr_n", "usr_p"), "rows": "ROWS",
    }
)  # fmt: skip
def test_the_page_is_what_the_templates_rendered(ctx: dict[str, Any]) -> None:
    assert users_page_html(**ctx).decode("utf-8") == _jinja(ctx)
