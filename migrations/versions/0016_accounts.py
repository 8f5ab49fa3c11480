"""accounts: how a user signs in (local or the directory), and a password to change first

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 20:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auth', sa.String(length=8), nullable=False,
                                      server_default='local'))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_check_constraint(op.f('ck_users_auth_known'),
                                         "auth IN ('local', 'ldap')")


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_auth_known'), type_='check')
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('auth')
