"""search by words: an index of each issue's words, kept with every change; jobs

``issue_search`` holds, per issue, its words as tokens of our own (pairs and single
characters of Chinese runs, Tibetan syllables, other words whole) and its texts normalised.
PostgreSQL indexes the tokens by GIN over their ``tsvector``; SQLite keeps an FTS5 table over
them, written by triggers.  Existing issues are indexed here, in batches.

``jobs`` holds the exports and imports that run as jobs (claimed under a lease by a worker).

Revision ID: 0019
Revises: 0014
Create Date: 2026-12-07 20:20:00

"""
import sqlalchemy as sa
from alembic import op

from tracker.issues.search import FIELDS, index_row

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0016'
branch_labels = None
depends_on = None

SQLITE_FTS = (
    "CREATE VIRTUAL TABLE issue_search_fts USING fts5(tokens, content='issue_search', "
    "content_rowid='issue_id', tokenize='ascii')",
    "CREATE TRIGGER issue_search_ai AFTER INSERT ON issue_search BEGIN "
    "INSERT INTO issue_search_fts(rowid, tokens) VALUES (new.issue_id, new.tokens); END",
    "CREATE TRIGGER issue_search_ad AFTER DELETE ON issue_search BEGIN "
    "INSERT INTO issue_search_fts(issue_search_fts, rowid, tokens) "
    "VALUES ('delete', old.issue_id, old.tokens); END",
    "CREATE TRIGGER issue_search_au AFTER UPDATE ON issue_search BEGIN "
    "INSERT INTO issue_search_fts(issue_search_fts, rowid, tokens) "
    "VALUES ('delete', old.issue_id, old.tokens); "
    "INSERT INTO issue_search_fts(rowid, tokens) VALUES (new.issue_id, new.tokens); END",
)
PG_INDEX = ("CREATE INDEX ix_issue_search_tokens ON issue_search "
            "USING gin (array_to_tsvector(string_to_array(tokens, ' ')))")
BATCH = 5000


WAITING = "status IN ('queued', 'running')"


def upgrade():
    op.create_table(
        'jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('locale', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('progress', sa.Float(), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('error', sa.JSON(), nullable=True),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('input_name', sa.String(length=80), nullable=True),
        sa.Column('file_name', sa.String(length=80), nullable=True),
        sa.Column('download_name', sa.String(length=255), nullable=True),
        sa.Column('download_fallback', sa.String(length=255), nullable=True),
        sa.Column('content_type', sa.String(length=100), nullable=True),
        sa.Column('claim', sa.String(length=32), nullable=True),
        sa.Column('lease_until', sa.DateTime(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')",
                           name=op.f('ck_jobs_status_known')),
        sa.CheckConstraint("kind IN ('export', 'import')", name=op.f('ck_jobs_kind_known')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_jobs_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    )
    op.create_index('ix_jobs_waiting', 'jobs', ['status', 'id'],
                    postgresql_where=sa.text(WAITING), sqlite_where=sa.text(WAITING))
    op.create_index('ix_jobs_expires', 'jobs', ['expires_at'])
    op.create_index(op.f('ix_jobs_user_id'), 'jobs', ['user_id'])
    op.create_table(
        'issue_search',
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.Column('tokens', sa.Text(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['issue_id'], ['issues.id'],
                                name=op.f('fk_issue_search_issue_id_issues'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('issue_id', name=op.f('pk_issue_search')),
    )
    conn = op.get_bind()
    if conn.dialect.name == 'sqlite':
        for statement in SQLITE_FTS:
            conn.exec_driver_sql(statement)
    table = sa.table('issue_search', sa.column('issue_id'), sa.column('tokens'),
                     sa.column('body'))
    issues = sa.table('issues', sa.column('id'), *[sa.column(f) for f in FIELDS])
    last = 0
    while True:
        rows = conn.execute(sa.select(issues.c.id, *[issues.c[f] for f in FIELDS])
                            .where(issues.c.id > last).order_by(issues.c.id).limit(BATCH)).all()
        if not rows:
            break
        conn.execute(table.insert(), [index_row(row[0], row[1:]) for row in rows])
        last = rows[-1][0]
    if conn.dialect.name == 'postgresql':
        # Built after the rows: one sort instead of a million index insertions.
        conn.exec_driver_sql(PG_INDEX)


def downgrade():
    conn = op.get_bind()
    if conn.dialect.name == 'sqlite':
        for name in ('issue_search_ai', 'issue_search_ad', 'issue_search_au'):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        conn.exec_driver_sql("DROP TABLE IF EXISTS issue_search_fts")
    op.drop_table('issue_search')
    op.drop_table('jobs')
