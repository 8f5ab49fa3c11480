"""indexes for scale: issues by org, status and due date, covering the id

The issue list of a subtree sorted by due date, the overdue report and their counts read
``(org_id, status, due_on, id)`` for each org of the subtree: the page's ids come from the
index alone, and only the page's rows are fetched.  It replaces ``(org_id, due_on)``, which it
covers for every query that used it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 11:15:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_issues_org_status_due', 'issues',
                    ['org_id', 'status', 'due_on', 'id'], unique=False)
    op.drop_index('ix_issues_org_due', table_name='issues')


def downgrade():
    op.create_index('ix_issues_org_due', 'issues', ['org_id', 'due_on'], unique=False)
    op.drop_index('ix_issues_org_status_due', table_name='issues')
