"""national calendar days; Tibetan campaign titles

``calendar_days.national`` tells the State Council's schedule (the package's rows, or an
admin's entry from its notice) from local days such as 藏历新年: only national entries make a
year's schedule known, so a local day can no longer hide a missing year.  The package's rows
are national.  ``campaigns.title_bo`` is a campaign's Tibetan title, shown on Tibetan pages
and files (the Chinese one where it has none).

Revision ID: 0017
Revises: 0019
Create Date: 2026-12-07 21:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('calendar_days') as batch:
        batch.add_column(sa.Column('national', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    calendar = sa.table('calendar_days', sa.column('source', sa.String),
                        sa.column('national', sa.Boolean))
    op.execute(calendar.update().where(calendar.c.source == 'package')
               .values(national=True))
    with op.batch_alter_table('campaigns') as batch:
        batch.add_column(sa.Column('title_bo', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('campaigns') as batch:
        batch.drop_column('title_bo')
    with op.batch_alter_table('calendar_days') as batch:
        batch.drop_column('national')
