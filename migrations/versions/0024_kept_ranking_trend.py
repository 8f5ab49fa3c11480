"""the ranking's figures beside the summary's kept counts, and the trend's kept past days

``issue_counts`` gains closed on time, the urges and the sum of the overdue ones' deadlines
as day numbers (from which the days overdue are worked out), so that today's ranking reads
the kept counts (tracker/issues/reports/counts.py); the table is built again from the
issues, its day figures on the day of the migration.  ``trend_counts`` keeps the ledger at
the end of every Sunday and month's end, per org that has children and campaign, built from
the status spans up to two days before today (tracker/issues/reports/daily.py);
``trend_days`` lists the days kept.

Revision ID: 0024
Revises: 0027
Create Date: 2026-12-08 02:30:00

"""
import sqlalchemy as sa
from alembic import op

from tracker.issues.reports.counts import rebuild
from tracker.issues.reports.daily import build_past
from tracker.timeutil import today

# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('issue_counts') as batch:
        batch.add_column(sa.Column('closed_on_time', sa.Integer(), nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('urged', sa.Integer(), nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('overdue_due_days', sa.BigInteger(), nullable=False,
                                   server_default='0'))
    op.create_table(
        'trend_counts',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False)
          for name in ('total', 'closed', 'overdue')),
        sa.PrimaryKeyConstraint('day', 'org_id', 'campaign_id', name=op.f('pk_trend_counts')),
    )
    op.create_table(
        'trend_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_trend_days')),
    )
    day = today()
    rebuild(op.get_bind(), day)
    build_past(op.get_bind(), day)


def downgrade():
    op.drop_table('trend_days')
    op.drop_table('trend_counts')
    with op.batch_alter_table('issue_counts') as batch:
        batch.drop_column('overdue_due_days')
        batch.drop_column('urged')
        batch.drop_column('closed_on_time')
