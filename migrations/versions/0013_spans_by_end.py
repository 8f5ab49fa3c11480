"""the overdue report as of a day reads the spans that still held then, by org and end

The spans not closed were indexed by org and deadline: for a past day the report walked every
open-status span due by then (in a prefecture at 1,000,000 issues some 109,000, most of them
of issues closed since) to keep the 5,600 that held on the day.  Led by ``valid_to`` after the
org, the spans still current (``valid_to IS NULL``) and those that ended after the day are two
short ranges, the deadline filtered inside the index.

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-02 05:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0008'
branch_labels = None
depends_on = None

OPEN = "status IN ('open', 'in_progress', 'submitted')"


def upgrade():
    op.create_index('ix_issue_spans_open_org_end', 'issue_spans',
                    ['org_id', 'valid_to', 'due_on', 'valid_from', 'status', 'issue_id', 'id'],
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
    op.drop_index('ix_issue_spans_open_org_due', table_name='issue_spans')


def downgrade():
    op.create_index('ix_issue_spans_open_org_due', 'issue_spans',
                    ['org_id', 'due_on', 'valid_from', 'valid_to', 'status', 'issue_id', 'id'],
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
    op.drop_index('ix_issue_spans_open_org_end', table_name='issue_spans')
