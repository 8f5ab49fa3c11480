"""a ledger a supervisor can trust: four eyes, hash-chained history, daily anchors

- ``issues.submitted_by_id``: who submitted for verification last (never its verifier),
  filled from the history's last ``submit`` event;
- ``events.prev_hash`` / ``events.hash`` and ``issues.history_hash``: every issue's history
  becomes a SHA-256 chain, built here for the events already recorded, in their order;
- ``history_anchors``: one digest a day over every issue's latest hash;
- triggers on PostgreSQL and SQLite refuse UPDATE and DELETE of events, and keep each
  issue's ``history_hash`` as events are inserted.

The canonical serialisation is written out here (a migration never changes with the code);
it must stay byte-for-byte that of ``tracker.issues.history.canonical``.

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-01 23:30:00

"""
import hashlib
import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0011'
branch_labels = None
depends_on = None

BATCH = 2000

APPEND_ONLY = {
    "postgresql": (
        "CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'insufficient_privilege'; "
        "END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
        "FOR EACH ROW EXECUTE FUNCTION events_append_only()",
        # Once per statement: a batch of 500 events updates its issues in one UPDATE.
        "CREATE OR REPLACE FUNCTION events_head() RETURNS trigger AS $$ "
        "BEGIN UPDATE issues SET history_hash = n.hash FROM (SELECT DISTINCT ON (issue_id) "
        "issue_id, hash FROM new_events ORDER BY issue_id, id DESC) AS n "
        "WHERE issues.id = n.issue_id; RETURN NULL; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER events_head AFTER INSERT ON events REFERENCING NEW TABLE AS new_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION events_head()",
    ),
    "sqlite": (
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
        "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
        "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
        "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
        "CREATE TRIGGER events_head AFTER INSERT ON events "
        "BEGIN UPDATE issues SET history_hash = NEW.hash WHERE id = NEW.issue_id; END",
    ),
}
DROP_APPEND_ONLY = {
    "postgresql": ("DROP TRIGGER IF EXISTS events_append_only ON events",
                   "DROP FUNCTION IF EXISTS events_append_only()",
                   "DROP TRIGGER IF EXISTS events_head ON events",
                   "DROP FUNCTION IF EXISTS events_head()"),
    "sqlite": ("DROP TRIGGER IF EXISTS events_no_update",
               "DROP TRIGGER IF EXISTS events_no_delete",
               "DROP TRIGGER IF EXISTS events_head"),
}

events = sa.table(
    "events",
    sa.column("id", sa.Integer), sa.column("issue_id", sa.Integer),
    sa.column("kind", sa.String), sa.column("actor_id", sa.Integer),
    sa.column("actor_label", sa.String), sa.column("at", sa.DateTime),
    sa.column("changes", sa.JSON), sa.column("comment", sa.Text),
    sa.column("prev_hash", sa.String), sa.column("hash", sa.String),
)
issues = sa.table(
    "issues", sa.column("id", sa.Integer), sa.column("submitted_by_id", sa.Integer),
    sa.column("history_hash", sa.String),
)


def _hash(prev_hash, row):
    text = json.dumps(
        {"prev_hash": prev_hash, "issue_id": row.issue_id, "kind": row.kind,
         "actor": [row.actor_id, row.actor_label],
         "at": row.at.isoformat(timespec="microseconds"),
         "changes": row.changes or {}, "comment": row.comment or ""},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _build_chains(conn):
    """Seal every recorded event into its issue's chain, in (issue, id) order."""
    rows = conn.execute(
        sa.select(events.c.id, events.c.issue_id, events.c.kind, events.c.actor_id,
                  events.c.actor_label, events.c.at, events.c.changes, events.c.comment)
        .order_by(events.c.issue_id, events.c.id)
    ).fetchall()
    event_updates, heads, submitters = [], {}, {}
    for row in rows:
        prev = heads.get(row.issue_id)
        digest = _hash(prev, row)
        heads[row.issue_id] = digest
        event_updates.append({"e_id": row.id, "e_prev": prev, "e_hash": digest})
        if row.kind == "submit":
            submitters[row.issue_id] = row.actor_id
    update_event = (events.update().where(events.c.id == sa.bindparam("e_id"))
                    .values(prev_hash=sa.bindparam("e_prev"), hash=sa.bindparam("e_hash")))
    for start in range(0, len(event_updates), BATCH):
        conn.execute(update_event, event_updates[start:start + BATCH])
    issue_updates = [{"i_id": iid, "i_hash": head, "i_sub": submitters.get(iid)}
                     for iid, head in heads.items()]
    update_issue = (issues.update().where(issues.c.id == sa.bindparam("i_id"))
                    .values(history_hash=sa.bindparam("i_hash"),
                            submitted_by_id=sa.bindparam("i_sub")))
    for start in range(0, len(issue_updates), BATCH):
        conn.execute(update_issue, issue_updates[start:start + BATCH])


def upgrade():
    conn = op.get_bind()
    dialect = conn.dialect.name
    with op.batch_alter_table('issues', schema=None) as batch_op:
        # Added in place (SQLite's ADD COLUMN), so the issues table is not rebuilt.
        batch_op.add_column(sa.Column('submitted_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('history_hash', sa.String(length=64), nullable=True))
    if dialect == "postgresql":
        op.create_foreign_key(op.f('fk_issues_submitted_by_id_users'), 'issues', 'users',
                              ['submitted_by_id'], ['id'])
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))

    op.create_table(
        'history_anchors',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('anchored_on', sa.Date(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('issue_count', sa.Integer(), nullable=False),
        sa.Column('last_event_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('mailed_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_history_anchors')),
        sa.UniqueConstraint('anchored_on', name=op.f('uq_history_anchors_anchored_on')),
    )

    _build_chains(conn)

    # Every event has its hash now; from here on the database requires one.
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)

    for statement in APPEND_ONLY.get(dialect, ()):
        op.execute(statement)


def downgrade():
    conn = op.get_bind()
    dialect = conn.dialect.name
    for statement in DROP_APPEND_ONLY.get(dialect, ()):
        op.execute(statement)
    op.drop_table('history_anchors')
    if dialect == "postgresql":
        op.drop_constraint(op.f('fk_issues_submitted_by_id_users'), 'issues',
                           type_='foreignkey')
    # ALTER TABLE … DROP COLUMN on both (SQLite ≥ 3.35): no table is rebuilt, so the
    # issues' CHECK constraints and partial indexes stay exactly as they were.
    for table, column in (('events', 'hash'), ('events', 'prev_hash'),
                          ('issues', 'history_hash'), ('issues', 'submitted_by_id')):
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
