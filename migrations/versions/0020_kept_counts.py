"""the summary's counts, kept as the ledger changes

``issue_counts`` holds per org (its whole subtree), category and campaign the summary's
figures: total, closed, closed late, extended, not closed, and overdue and yellow as they
stand on ``issue_counts_day``'s day.  Every change of the issues adds its difference in its
own transaction (tracker/issues/reports/counts.py); here the table is built from the
issues as they are, its day figures on the day of the migration.

Revision ID: 0020
Revises: 0022
Create Date: 2026-12-07 23:50:00

"""
import sqlalchemy as sa
from alembic import op

from tracker.issues.reports.counts import FIGURES_0020, rebuild
from tracker.timeutil import today

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'issue_counts',
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in (
            'total', 'closed', 'closed_late', 'extended', 'open_count', 'overdue', 'yellow')),
        sa.PrimaryKeyConstraint('org_id', 'category_id', 'campaign_id',
                                name=op.f('pk_issue_counts')),
    )
    op.create_table(
        'issue_counts_day',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_counts_day')),
    )
    # The columns of this revision (0024 adds more and builds the table again).
    rebuild(op.get_bind(), today(), FIGURES_0020)


def downgrade():
    op.drop_table('issue_counts_day')
    op.drop_table('issue_counts')
