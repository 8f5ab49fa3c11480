"""the length of a video evidence file

``evidence.duration_seconds``: how long an MP4 or MOV runs, read from its header (``mvhd``) at
upload and shown on the issue page; null for every other file.

Revision ID: 0022
Revises: 0017
Create Date: 2026-12-07 23:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('evidence') as batch:
        batch.add_column(sa.Column('duration_seconds', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('evidence') as batch:
        batch.drop_column('duration_seconds')
