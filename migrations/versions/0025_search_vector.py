"""search: the reader's scope in the index, and the tokens as a stored tsvector

``issue_search.scope`` holds a token ``§<id>`` for the issue's org and every org above it
(tracker/issues/search.py), so that a search asks the index for its words and the reader's
scope at once: a prefecture's search no longer reads the rest of the country's matches.
On PostgreSQL, ``vector`` is the ``tsvector`` of the tokens and the scope, a column the
database computes when a row is written (GENERATED … STORED): whichever code writes a row
writes its vector in the same statement, and a search reads it as stored instead of parsing
every candidate's tokens again.  The GIN index moves from the expression to the column.
SQLite's FTS5 table is made again over both columns (FTS5 tables take no new column).
Existing rows get their scope here, from the org closure.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08 02:50:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

VECTOR = ("array_to_tsvector(array_remove(string_to_array(tokens || ' ' || scope, ' '), ''))")
OLD_VECTOR = "array_to_tsvector(string_to_array(tokens, ' '))"
PG_SCOPES = (
    "UPDATE issue_search SET scope = x.scope FROM ("
    "SELECT issues.id, string_agg('§' || org_closure.ancestor_id::text, ' ') AS scope "
    "FROM issues JOIN org_closure ON org_closure.descendant_id = issues.org_id "
    "GROUP BY issues.id) AS x WHERE x.id = issue_search.issue_id")
SQLITE_SCOPES = (
    "UPDATE issue_search SET scope = coalesce((SELECT group_concat('§' || "
    "org_closure.ancestor_id, ' ') FROM issues JOIN org_closure "
    "ON org_closure.descendant_id = issues.org_id WHERE issues.id = issue_search.issue_id), '')")
SQLITE_TRIGGERS = ('issue_search_ai', 'issue_search_ad', 'issue_search_au')


def _sqlite_fts(columns):
    """The FTS5 table over ``columns`` of issue_search and the triggers that keep it."""
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    delete = (f"INSERT INTO issue_search_fts(issue_search_fts, rowid, {cols}) "
              f"VALUES ('delete', old.issue_id, {old});")
    insert = f"INSERT INTO issue_search_fts(rowid, {cols}) VALUES (new.issue_id, {new});"
    return (
        f"CREATE VIRTUAL TABLE issue_search_fts USING fts5({cols}, content='issue_search', "
        "content_rowid='issue_id', tokenize='ascii')",
        f"CREATE TRIGGER issue_search_ai AFTER INSERT ON issue_search BEGIN {insert} END",
        f"CREATE TRIGGER issue_search_ad AFTER DELETE ON issue_search BEGIN {delete} END",
        f"CREATE TRIGGER issue_search_au AFTER UPDATE ON issue_search BEGIN {delete} {insert} "
        "END",
        "INSERT INTO issue_search_fts(issue_search_fts) VALUES ('rebuild')",
    )


def _drop_sqlite_fts(conn):
    for name in SQLITE_TRIGGERS:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    conn.exec_driver_sql("DROP TABLE IF EXISTS issue_search_fts")


def upgrade():
    conn = op.get_bind()
    if conn.dialect.name == 'postgresql':
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_issue_search_tokens")
        conn.exec_driver_sql("ALTER TABLE issue_search ADD COLUMN scope text NOT NULL DEFAULT ''")
        conn.exec_driver_sql(PG_SCOPES)
        # No default from now on: a writer that forgets the scope fails instead of hiding
        # its issues from every scoped search.
        conn.exec_driver_sql("ALTER TABLE issue_search ALTER COLUMN scope DROP DEFAULT")
        conn.exec_driver_sql(f"ALTER TABLE issue_search ADD COLUMN vector tsvector "
                             f"GENERATED ALWAYS AS ({VECTOR}) STORED NOT NULL")
        # Built after the rows: one sort instead of a row's insertions at a time.
        conn.exec_driver_sql("CREATE INDEX ix_issue_search_vector ON issue_search "
                             "USING gin (vector)")
        return
    _drop_sqlite_fts(conn)
    conn.exec_driver_sql("ALTER TABLE issue_search ADD COLUMN scope TEXT NOT NULL DEFAULT ''")
    conn.exec_driver_sql(SQLITE_SCOPES)
    for statement in _sqlite_fts(("tokens", "scope")):
        conn.exec_driver_sql(statement)


def downgrade():
    conn = op.get_bind()
    if conn.dialect.name == 'postgresql':
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_issue_search_vector")
        conn.exec_driver_sql("ALTER TABLE issue_search DROP COLUMN vector")
        conn.exec_driver_sql("ALTER TABLE issue_search DROP COLUMN scope")
        conn.exec_driver_sql(f"CREATE INDEX ix_issue_search_tokens ON issue_search "
                             f"USING gin ({OLD_VECTOR})")
        return
    _drop_sqlite_fts(conn)
    conn.exec_driver_sql("ALTER TABLE issue_search DROP COLUMN scope")
    for statement in _sqlite_fts(("tokens",)):
        conn.exec_driver_sql(statement)
