"""the verification queue in its own order: submitted issues by when they were submitted

``ix_issues_submitted_since``: (updated_at, id) of the submitted issues only, the order of
待我验收, so that a whole country's queue reads its first fifty entries instead of sorting
every submission (bench/README.md).

Revision ID: 0027
Revises: 0020
Create Date: 2026-12-08 02:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0020'
branch_labels = None
depends_on = None

SUBMITTED = sa.text("status = 'submitted'")


def upgrade():
    op.create_index('ix_issues_submitted_since', 'issues', ['updated_at', 'id'],
                    postgresql_where=SUBMITTED, sqlite_where=SUBMITTED)


def downgrade():
    op.drop_index('ix_issues_submitted_since', table_name='issues')
