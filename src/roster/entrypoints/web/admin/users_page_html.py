"""The users page's HTML, built in Python: byte for byte what `users/list.html` in
the layout (`base.html`) renders through Jinja2 for a signed-in admin.

The users page is the dashboard's busiest, and Jinja2 spent ~70-100 µs a request
on it outside the rows (some 140 pieces yielded, ~50 autoescape calls, each
wrapping its result in Markup), then encoding 26 KB of text that holds a few
non-ASCII characters cost another ~15 µs. Here each shown value is escaped once by
MarkupSafe's own escaping function (the one autoescape calls), the fixed markup
is the templates' text, and the page is assembled as UTF-8 bytes. The templates
stay the reference: tests/unit/test_users_page_html.py renders both, by property,
and any change to them without the same change here fails it.
"""

from collections.abc import Sequence
from urllib.parse import quote_from_bytes

from roster.domain.vocabulary import Status
from roster.domain.workspaces import UserCounts
from roster.entrypoints.web.admin.rendering import label
from roster.services.admin_queries import ListedUser, Page

try:  # MarkupSafe's escaping of a str, as user_table.py imports it
    from markupsafe._speedups import _escape_inner as _escaped
except ImportError:  # pragma: no cover - a MarkupSafe built without its C extension
    from markupsafe._native import _escape_inner as _escaped


def _urlencoded(text: str) -> str:
    """Jinja2's `urlencode` filter for a str (its `url_quote`: UTF-8, "/" kept)."""
    return quote_from_bytes(text.encode("utf-8"), b"/")


HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>"""
TOP = """Roster admin</title>
<link rel="stylesheet" href="/admin/static/admin.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/admin/users">Roster</a>
\x20\x20
  <nav aria-label="Dashboard">
    <ul>
      """
SIGN_OUT = """
      <li>
        <form method="post" action="/admin/sign-out" class="inline">
          <input type="hidden" name=\""""
SIGNED_IN = """">
          <button type="submit" class="link">Sign out</button>
        </form>
      </li>
    </ul>
  </nav>
  <p class="who">Signed in as <strong>"""
MAIN = """)</p>
\x20\x20
</header>
<main id="main" tabindex="-1">
  """
CONTENT = """
\x20\x20
<h1>Users</h1>
<nav aria-label="Filter by status">
<ul class="counts">
  <li><a href="/admin/users"""
SEARCH = """
</ul>
</nav>

<form method="get" action="/admin/users" class="row" role="search">
  <div>
    <label for="q">Search by email or name</label>
    <input id="q" name="q" type="search" value=\""""
SELECT = """" maxlength="200">
  </div>
  <div>
    <label for="status">Status</label>
    <select id="status" name="status">
      <option value="">Any status</option>
      """
BULK = """
    </select>
  </div>
  <div><button type="submit">Search</button></div>
</form>

<form method="post" action="/admin/bulk-actions/new">
  <input type="hidden" name=\""""
CAPTION = """">
  <table>
    <caption>"""
TABLE = """</caption>
    <thead><tr>
      <th scope="col"><span class="visually-hidden">Select</span></th>
      <th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th>
      <th scope="col">Status</th><th scope="col">Last seen</th>
    </tr></thead>
    <tbody>
    """
PAGER = """
    </tbody>
  </table>
  <p><button type="submit" class="secondary">Bulk action on selected users…</button></p>
</form>

<nav class="pager" aria-label="Pages">
\x20\x20
  """
END = """
</nav>

</main>
</body>
</html>"""


def users_page_html(
    *,
    title: str,
    admin_name: str,
    admin_role: str,
    csrf_field: str,
    csrf_token: str,
    nav: Sequence[tuple[str, str]],
    current: str,
    flash: str | None,
    counts: UserCounts,
    total: int,
    statuses: Sequence[Status],
    q: str,
    status: Status | None,
    page: Page[ListedUser],
    rows: str,
) -> bytes:
    """The page's bytes; `rows` is user_table.table_rows's markup (placed as it is)."""
    out = [HEAD, _escaped(f"{title} · ") if title else "", TOP]
    for nav_label, path in nav:
        here = current == path or current.startswith(path + "/")
        out += ['\n      <li><a href="', _escaped(path), '"']
        out += [' aria-current="page">' if here else ">", _escaped(nav_label), "</a></li>\n      "]
    csrf = (_escaped(csrf_field), '" value="', _escaped(csrf_token))
    out += [SIGN_OUT, *csrf, SIGNED_IN, _escaped(admin_name), "</strong> ("]
    out += [_escaped(label(admin_role)), MAIN]
    if flash:
        out += ['<p class="flash" role="status">', _escaped(flash), "</p>"]
    asked = _urlencoded(q) if q else ""
    out += [CONTENT, _escaped("?q=" + asked) if q else "", '"']
    out += ["" if status else ' aria-current="true"', ">All <strong>", str(total)]
    out.append("</strong></a></li>\n  ")
    for s in statuses:
        value = _escaped(s.value)
        out += ['\n  <li><a href="/admin/users?status=', value]
        out += [_escaped("&q=" + asked) if q else "", '"']
        out += [' aria-current="true">' if status == s else ">", _escaped(label(s))]
        out += [' <strong data-count="', value, '">', str(counts.of(s)), "</strong></a></li>\n  "]
    out += [SEARCH, _escaped(q), SELECT]
    for s in statuses:
        out += ['<option value="', _escaped(s.value), '"', " selected" if status == s else ""]
        out += [">", _escaped(label(s)), "</option>"]
    out += [BULK, *csrf, CAPTION]
    if rows:
        out.append("Users")
        if q:
            out += [" matching “", _escaped(q), "”"]
        if status:
            out += [", ", _escaped(label(status))]
    else:
        out.append("No users match")
    out += [TABLE, rows, PAGER]
    keep = ("&q=" + asked if q else "") + ("&status=" + status.value if status else "")
    if page.prev_before:
        out += ['<a href="/admin/users?before=', _escaped(page.prev_before), _escaped(keep)]
        out.append('" rel="prev">← Previous page</a>')
    out.append("\n  ")
    if page.next_after:
        out += ['<a href="/admin/users?after=', _escaped(page.next_after), _escaped(keep)]
        out.append('" rel="next">Next page →</a>')
    out.append(END)
    return "".join(out).encode("utf-8")
