"""user search: an index that finds users by text in their email or name

Revision ID: 0017_user_search
Revises: 0016_review_digest

The users filter's `q` (text in the email or the name, any case) is a LIKE
'%text%' that no ordinary index serves. This adds one each database provides:

- PostgreSQL: pg_trgm GIN indexes on `email` (stored lowercase, searched with LIKE)
  and `name` (searched with ILIKE), which serve those same conditions.
- SQLite: `users_search`, an FTS5 table with the trigram tokenizer over the email
  and name of `users` (external content: it keeps no copy of the text, only the
  index, keyed by the users' rowid), kept in step by triggers on `users`.
  adapters/filter_sql.py narrows a search to its MATCH rows, then applies the LIKE
  conditions as before, so the results are the same.

A later migration that rebuilds `users` on SQLite (batch mode recreating the table)
drops these triggers and may renumber rowids: it must create them again and run
`INSERT INTO users_search(users_search) VALUES ('rebuild')`, as `upgrade` does.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017_user_search"
down_revision: str | None = "0016_review_digest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_UP = (
    "CREATE VIRTUAL TABLE users_search USING fts5("
    "email, name, content='users', content_rowid='rowid', tokenize='trigram')",
    "INSERT INTO users_search(users_search) VALUES ('rebuild')",
    "CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN "
    "INSERT INTO users_search(rowid, email, name) VALUES (new.rowid, new.email, new.name); "
    "END",
    "CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN "
    "INSERT INTO users_search(users_search, rowid, email, name) "
    "VALUES ('delete', old.rowid, old.email, old.name); "
    "END",
    "CREATE TRIGGER users_search_update AFTER UPDATE OF email, name ON users BEGIN "
    "INSERT INTO users_search(users_search, rowid, email, name) "
    "VALUES ('delete', old.rowid, old.email, old.name); "
    "INSERT INTO users_search(rowid, email, name) VALUES (new.rowid, new.email, new.name); "
    "END",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS users_search_update",
    "DROP TRIGGER IF EXISTS users_search_delete",
    "DROP TRIGGER IF EXISTS users_search_insert",
    "DROP TABLE IF EXISTS users_search",
)
_POSTGRESQL_UP = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_users_search_email ON users USING gin (email gin_trgm_ops)",
    "CREATE INDEX ix_users_search_name ON users USING gin (name gin_trgm_ops)",
)
_POSTGRESQL_DOWN = (
    "DROP INDEX IF EXISTS ix_users_search_name",
    "DROP INDEX IF EXISTS ix_users_search_email",
)


def _run(statements: dict[str, tuple[str, ...]]) -> None:
    for statement in statements.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def upgrade() -> None:
    _run({"sqlite": _SQLITE_UP, "postgresql": _POSTGRESQL_UP})


def downgrade() -> None:
    _run({"sqlite": _SQLITE_DOWN, "postgresql": _POSTGRESQL_DOWN})
