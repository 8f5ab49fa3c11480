"""webhooks (subscriptions, outbox, delivery log, overdue marks), public campaigns

Webhooks tell other government systems of changes without polling (SPEC §6): a subscription
per URL, one message per event written in the transaction of the change, one delivery row
per message and subscription that the sweep claims before sending.  ``webhook_overdue`` makes
``issue.overdue`` once per issue and due date.  ``campaigns.public`` publishes a campaign's
progress at /public (政务公开), its closed findings read by (campaign, status, closed_on).  The notifications' kinds gain ``webhook_disabled`` (the notice
to admins when a failing subscription is deactivated).

Revision ID: 0011
Revises: 0003
Create Date: 2026-12-01 23:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0003'
branch_labels = None
depends_on = None

#: The kinds of notifications before this revision, and the kind it adds.
KINDS_BEFORE = ('reminder', 'escalation', 'info')
KINDS_AFTER = KINDS_BEFORE + ('webhook_disabled',)


def _kind_check(kinds):
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def upgrade():
    op.create_table('webhooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('failing_since', sa.DateTime(), nullable=True),
    sa.Column('disabled_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_webhooks_org_id_orgs')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_webhooks_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks'))
    )
    op.create_table('webhook_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('msg_id', sa.String(length=40), nullable=False),
    sa.Column('event_type', sa.String(length=40), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'],
                            name=op.f('fk_webhook_messages_issue_id_issues')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_messages')),
    sa.UniqueConstraint('msg_id', name=op.f('uq_webhook_messages_msg_id'))
    )
    with op.batch_alter_table('webhook_messages', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_messages_issue_id', ['issue_id'], unique=False)
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'delivered')",
                       name=op.f('ck_webhook_deliveries_status_known')),
    sa.ForeignKeyConstraint(['message_id'], ['webhook_messages.id'],
                            name=op.f('fk_webhook_deliveries_message_id_webhook_messages')),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'],
                            name=op.f('fk_webhook_deliveries_webhook_id_webhooks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('message_id', 'webhook_id', name='uq_webhook_deliveries_message')
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_due', ['status', 'next_attempt_at', 'id'],
                              unique=False)
        batch_op.create_index('ix_webhook_deliveries_webhook', ['webhook_id', 'id'],
                              unique=False)
    op.create_table('webhook_overdue',
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'],
                            name=op.f('fk_webhook_overdue_issue_id_issues')),
    sa.PrimaryKeyConstraint('issue_id', 'due_on', name=op.f('pk_webhook_overdue'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.create_index('ix_issues_campaign_status_closed',
                              ['campaign_id', 'status', 'closed_on', 'id'], unique=False)
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_kind_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_notifications_kind_known'),
                                         _kind_check(KINDS_AFTER))


def downgrade():
    op.execute("DELETE FROM notifications WHERE kind = 'webhook_disabled'")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_kind_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_notifications_kind_known'),
                                         _kind_check(KINDS_BEFORE))
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_index('ix_issues_campaign_status_closed')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('public')
    op.drop_table('webhook_overdue')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_webhook')
        batch_op.drop_index('ix_webhook_deliveries_due')
    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('webhook_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_messages_issue_id')
    op.drop_table('webhook_messages')
    op.drop_table('webhooks')
