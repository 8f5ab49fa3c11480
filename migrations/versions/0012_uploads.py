"""resumable (tus) uploads and evidence thumbnails

``uploads`` holds each tus upload under way: its offset (bytes received so far), its
temporary file's name, when it expires and who is writing a chunk now, so that any worker on
any host resumes an upload another started and two PATCHes never interleave.
``evidence.thumb_name`` names the thumbnail made once for an image.

Revision ID: 0012
Revises: 0003
Create Date: 2026-12-01 23:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'uploads',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('length', sa.BigInteger(), nullable=False),
        sa.Column('received', sa.BigInteger(), nullable=False),
        sa.Column('stored_name', sa.String(length=80), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('claim', sa.String(length=32), nullable=True),
        sa.Column('claimed_until', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['issue_id'], ['issues.id'],
                                name=op.f('fk_uploads_issue_id_issues')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_uploads_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_uploads')),
        sa.UniqueConstraint('stored_name', name=op.f('uq_uploads_stored_name')),
        sa.CheckConstraint('received >= 0 AND received <= length',
                           name=op.f('ck_uploads_received_within_length')),
    )
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_uploads_issue_id'), ['issue_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_uploads_expires_at'), ['expires_at'], unique=False)
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thumb_name', sa.String(length=80), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_evidence_thumb_name'), ['thumb_name'])


def downgrade():
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_evidence_thumb_name'), type_='unique')
        batch_op.drop_column('thumb_name')
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_uploads_expires_at'))
        batch_op.drop_index(batch_op.f('ix_uploads_issue_id'))
    op.drop_table('uploads')
