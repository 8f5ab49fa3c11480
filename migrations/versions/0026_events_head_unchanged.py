"""the history's head is written only where it changes

The trigger ``events_head`` (0006) sets each issue's ``history_hash`` to its newest event's
hash after every INSERT into events.  An import inserts its issues with that hash already in
place (the rows and their ``created`` events are made together), so the trigger rewrote ten
thousand rows just written to the same value: on PostgreSQL half of a 10,000-row import's
write (bench/README.md).  It now writes only the issues whose head differs; what it leaves is
what it would have written.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-08 03:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def _postgresql(condition: str) -> str:
    return ("CREATE OR REPLACE FUNCTION events_head() RETURNS trigger AS $$ "
            "BEGIN UPDATE issues SET history_hash = n.hash FROM (SELECT DISTINCT ON (issue_id) "
            "issue_id, hash FROM new_events ORDER BY issue_id, id DESC) AS n "
            f"WHERE issues.id = n.issue_id{condition}; RETURN NULL; END; $$ LANGUAGE plpgsql")


def _sqlite(condition: str) -> str:
    return ("CREATE TRIGGER events_head AFTER INSERT ON events "
            f"BEGIN UPDATE issues SET history_hash = NEW.hash WHERE id = NEW.issue_id{condition}; "
            "END")


POSTGRESQL_CHANGED = " AND issues.history_hash IS DISTINCT FROM n.hash"
SQLITE_CHANGED = " AND history_hash IS NOT NEW.hash"


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_postgresql(POSTGRESQL_CHANGED))  # the trigger calls the function by name
    else:
        op.execute('DROP TRIGGER IF EXISTS events_head')
        op.execute(_sqlite(SQLITE_CHANGED))


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_postgresql(""))
    else:
        op.execute('DROP TRIGGER IF EXISTS events_head')
        op.execute(_sqlite(""))
