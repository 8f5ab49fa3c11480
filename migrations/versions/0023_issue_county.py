"""each issue's county, so that a county's ledger is one index range

``issues.county_id``: the org of kind county on the line of the issue's org (NULL above every
county), indexed with the ledger's order (county_id, due_on, id); filled for existing rows
(``tracker.issues.counties``).

Revision ID: 0023
Revises: 0026
Create Date: 2026-12-08 02:30:00

"""
import sqlalchemy as sa
from alembic import op

from tracker.issues.counties import refill

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases (no copy of the ledger's table); derived from
    # org_id, it has no foreign key of its own.
    op.add_column('issues', sa.Column('county_id', sa.Integer(), nullable=True))
    refill(op.get_bind())
    op.create_index('ix_issues_county_due', 'issues', ['county_id', 'due_on', 'id'])


#: SQLite rebuilds issues to drop a column; its trigger on events names issues, so it is set
#: aside while the table is rebuilt (as 0026 left it), as 0015 does.
SQLITE_HEAD = ("CREATE TRIGGER events_head AFTER INSERT ON events "
               "BEGIN UPDATE issues SET history_hash = NEW.hash WHERE id = NEW.issue_id "
               "AND history_hash IS NOT NEW.hash; END")


def downgrade():
    op.drop_index('ix_issues_county_due', table_name='issues')
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.execute('DROP TRIGGER IF EXISTS events_head')
    with op.batch_alter_table('issues') as batch:
        batch.drop_column('county_id')
    if sqlite:
        op.execute(SQLITE_HEAD)
