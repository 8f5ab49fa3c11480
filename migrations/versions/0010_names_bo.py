"""Tibetan names (name_bo) of orgs and categories

Pages in Tibetan show an org's or a category's Tibetan name, the Chinese one where it has none.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-01 23:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('orgs', 'categories'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('name_bo', sa.String(length=200), nullable=True))


def downgrade():
    for table in ('orgs', 'categories'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('name_bo')
