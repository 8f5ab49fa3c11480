"""usernames are unique after NFKC normalisation and case folding

``users.username_key`` holds each username's NFKC, case-folded form under a UNIQUE constraint,
so the database refuses ``Admin``, ``ａｄｍｉｎ`` and ``admin`` as three users.  Existing rows
are filled in from their usernames; when two existing usernames already share a key, the later
user (higher id) keeps its username and login, and its key is made unique with ``#<id>`` so
the migration never fails on old data (an admin may then rename or deactivate one of them).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 20:40:00

"""
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def _key(username: str) -> str:
    # The rule of tracker.text.username_key, frozen here as migrations must be.
    return unicodedata.normalize("NFKC", username).casefold()


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('username_key', sa.String(80), nullable=True))
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('username', sa.String),
                     sa.column('username_key', sa.String))
    conn = op.get_bind()
    seen: set[str] = set()
    for user_id, username in conn.execute(
            sa.select(users.c.id, users.c.username).order_by(users.c.id)).all():
        key = _key(username)[:80]
        if key in seen:
            key = f"{key[:68]}#{user_id}"
        seen.add(key)
        conn.execute(users.update().where(users.c.id == user_id).values(username_key=key))
    with op.batch_alter_table('users') as batch:
        batch.alter_column('username_key', existing_type=sa.String(80), nullable=False)
        batch.create_unique_constraint('uq_users_username_key', ['username_key'])


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint('uq_users_username_key', type_='unique')
        batch.drop_column('username_key')
