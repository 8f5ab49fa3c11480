"""event notices: who acted and why on a notice, the mail outbox, each user's notify_mail

Notices of what happened to someone's work (assigned, submitted, rejected, closed, reopened,
extension_requested, extension_decided) live in ``notifications`` beside the reminder digests,
with the actor and the comment.  ``notice_mails`` holds one row per notice to be mailed; its
partial index on the unsent rows lets a sweep read only what is new.  ``daily_runs`` records
that a day's reminder pass ran, so the scheduler's catch-up at start claims its day once.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 23:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0009'
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('reminder', 'escalation', 'info', 'webhook_disabled')"
KINDS = ("kind IN ('reminder', 'escalation', 'info', 'webhook_disabled', 'assigned', "
         "'submitted', 'rejected', 'closed', 'reopened', 'extension_requested', "
         "'extension_decided')")
NOTIFY_MAIL = "notify_mail IN ('immediate', 'daily', 'off')"
UNSENT = "sent_at IS NULL"


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_mail', sa.String(length=16), nullable=False,
                                      server_default='immediate'))
        batch_op.create_check_constraint('notify_mail_known', NOTIFY_MAIL)

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_kind_known'), type_='check')
        batch_op.alter_column('kind', existing_type=sa.String(length=16),
                              type_=sa.String(length=32), existing_nullable=False)
        batch_op.add_column(sa.Column('actor_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('actor_label', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('comment', sa.Text(), nullable=False, server_default=''))
        batch_op.create_foreign_key(op.f('fk_notifications_actor_id_users'), 'users',
                                    ['actor_id'], ['id'])
        batch_op.create_check_constraint('kind_known', KINDS)

    op.create_table('notice_mails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('claim_token', sa.String(length=64), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'],
                            name=op.f('fk_notice_mails_notification_id_notifications')),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'],
                            name=op.f('fk_notice_mails_recipient_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_mails')),
    sa.UniqueConstraint('notification_id', name=op.f('uq_notice_mails_notification_id'))
    )
    op.create_index('ix_notice_mails_unsent', 'notice_mails', ['recipient_id', 'id'],
                    unique=False, postgresql_where=sa.text(UNSENT),
                    sqlite_where=sa.text(UNSENT))

    op.create_table('daily_runs',
    sa.Column('job', sa.String(length=32), nullable=False),
    sa.Column('run_on', sa.Date(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('job', 'run_on', name=op.f('pk_daily_runs'))
    )


def downgrade():
    op.drop_table('daily_runs')
    op.drop_index('ix_notice_mails_unsent', table_name='notice_mails')
    op.drop_table('notice_mails')
    op.execute("DELETE FROM notification_items WHERE notification_id IN "
               "(SELECT id FROM notifications WHERE NOT (" + OLD_KINDS + "))")
    op.execute("DELETE FROM notifications WHERE NOT (" + OLD_KINDS + ")")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_kind_known'), type_='check')
        batch_op.drop_constraint(op.f('fk_notifications_actor_id_users'), type_='foreignkey')
        batch_op.drop_column('comment')
        batch_op.drop_column('actor_label')
        batch_op.drop_column('actor_id')
        batch_op.alter_column('kind', existing_type=sa.String(length=32),
                              type_=sa.String(length=16), existing_nullable=False)
        batch_op.create_check_constraint('kind_known', OLD_KINDS)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_notify_mail_known'), type_='check')
        batch_op.drop_column('notify_mail')
