"""supervision by hand: the traffic light's inputs on issues and spans, a campaign's warning
window, urges (催办) and supervision orders (督办单) with their per-org yearly counters

``warn_from`` is filled for the issues there are and for their current spans: due_on less
seven days on a calendar campaign, the seventh working day before due_on on a working one
(the calendar's exceptions to the Monday–Friday week read once).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 20:30:00

"""
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

WARN_DAYS = 7
NOTICE_KINDS_BEFORE = ('reminder', 'escalation', 'info', 'webhook_disabled', 'assigned',
                       'submitted', 'rejected', 'closed', 'reopened', 'extension_requested',
                       'extension_decided')
NOTICE_KINDS_AFTER = NOTICE_KINDS_BEFORE + ('urged', 'order_issued', 'order_replied',
                                            'order_overdue')


def _kind_check(kinds):
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def _working_warn_from(conn, due_dates):
    """The seventh working day before each date, with the calendar's exceptions."""
    days = sa.table('calendar_days', sa.column('day', sa.Date), sa.column('kind'))
    kinds = dict(conn.execute(sa.select(days.c.day, days.c.kind)).all())
    found = {}
    for due in due_dates:
        day, left = due, WARN_DAYS
        while left:
            day -= timedelta(days=1)
            kind = kinds.get(day)
            if kind == 'workday' or (kind is None and day.weekday() < 5):
                left -= 1
        found[due] = day
    return found


def _fill_warn_from(conn):
    issues = sa.table('issues', sa.column('campaign_id'), sa.column('due_on', sa.Date),
                      sa.column('warn_from', sa.Date))
    spans = sa.table('issue_spans', sa.column('campaign_id'), sa.column('due_on', sa.Date),
                     sa.column('warn_from', sa.Date), sa.column('valid_to'))
    campaigns = sa.table('campaigns', sa.column('id'), sa.column('day_basis'))
    for table in (issues, spans):
        pairs = conn.execute(
            sa.select(table.c.campaign_id, table.c.due_on, campaigns.c.day_basis)
            .join(campaigns, campaigns.c.id == table.c.campaign_id).distinct()).all()
        working = _working_warn_from(
            conn, {p.due_on for p in pairs if p.day_basis == 'working'})
        for campaign_id, due_on, basis in pairs:
            start = working[due_on] if basis == 'working' else due_on - timedelta(days=WARN_DAYS)
            where = [table.c.campaign_id == campaign_id, table.c.due_on == due_on]
            if table is spans:
                where.append(table.c.valid_to.is_(None))
            conn.execute(sa.update(table).where(*where).values(warn_from=start))


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warn_days', sa.Integer(), nullable=False,
                                      server_default=str(WARN_DAYS)))
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warn_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('chased_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('urge_count', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('last_urged_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('open_orders', sa.Integer(), nullable=False,
                                      server_default='0'))
    with op.batch_alter_table('issue_spans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warn_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('chased_on', sa.Date(), nullable=True))
    _fill_warn_from(op.get_bind())
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_kind_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_notifications_kind_known'),
                                         _kind_check(NOTICE_KINDS_AFTER))
    op.create_table(
        'urges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('urged_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_urges_issue_id_issues')),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_urges_actor_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_urges')),
        sa.UniqueConstraint('issue_id', 'urged_on', name='uq_urges_issue_day'),
    )
    op.create_table(
        'orders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=120), nullable=False),
        sa.Column('issuing_org_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('issued_by_id', sa.Integer(), nullable=False),
        sa.Column('level', sa.String(length=16), nullable=False),
        sa.Column('reply_by', sa.Date(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('issued_at', sa.DateTime(), nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=False),
        sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
        sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
        sa.Column('reply', sa.Text(), nullable=True),
        sa.Column('replied_by_id', sa.Integer(), nullable=True),
        sa.Column('replied_at', sa.DateTime(), nullable=True),
        sa.Column('closed_by_id', sa.Integer(), nullable=True),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.Column('close_comment', sa.Text(), nullable=False),
        sa.CheckConstraint("level IN ('blue', 'yellow', 'red')", name=op.f('ck_orders_level_known')),
        sa.CheckConstraint("status IN ('issued', 'acknowledged', 'replied', 'closed')",
                           name=op.f('ck_orders_status_known')),
        sa.ForeignKeyConstraint(['issuing_org_id'], ['orgs.id'], name=op.f('fk_orders_issuing_org_id_orgs')),
        sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_orders_org_id_orgs')),
        sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_orders_issued_by_id_users')),
        sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'], name=op.f('fk_orders_acknowledged_by_id_users')),
        sa.ForeignKeyConstraint(['replied_by_id'], ['users.id'], name=op.f('fk_orders_replied_by_id_users')),
        sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_orders_closed_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
        sa.UniqueConstraint('issuing_org_id', 'year', 'seq', name='uq_orders_number'),
    )
    op.create_index('ix_orders_org_status', 'orders', ['org_id', 'status', 'id'])
    op.create_index('ix_orders_issuing_status', 'orders', ['issuing_org_id', 'status', 'id'])
    op.create_table(
        'order_issues',
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_issues_order_id_orders')),
        sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_order_issues_issue_id_issues')),
        sa.PrimaryKeyConstraint('order_id', 'issue_id', name=op.f('pk_order_issues')),
    )
    op.create_index(op.f('ix_order_issues_issue_id'), 'order_issues', ['issue_id'])
    op.create_table(
        'order_counters',
        sa.Column('issuing_org_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['issuing_org_id'], ['orgs.id'], name=op.f('fk_order_counters_issuing_org_id_orgs')),
        sa.PrimaryKeyConstraint('issuing_org_id', 'year', name=op.f('pk_order_counters')),
    )
    op.create_table(
        'order_alerts',
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('step', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_alerts_order_id_orders')),
        sa.PrimaryKeyConstraint('order_id', 'step', name=op.f('pk_order_alerts')),
    )


#: SQLite rebuilds a table to drop a column; its trigger on events names issues, so it is
#: set aside while issues is rebuilt (0006 made it).
SQLITE_HEAD = ("CREATE TRIGGER events_head AFTER INSERT ON events "
               "BEGIN UPDATE issues SET history_hash = NEW.hash WHERE id = NEW.issue_id; END")


def downgrade():
    for table in ('order_alerts', 'order_counters', 'order_issues', 'orders', 'urges'):
        op.drop_table(table)
    kinds = ", ".join(f"'{k}'" for k in NOTICE_KINDS_AFTER[len(NOTICE_KINDS_BEFORE):])
    op.execute(f"DELETE FROM notice_mails WHERE notification_id IN "
               f"(SELECT id FROM notifications WHERE kind IN ({kinds}))")
    op.execute(f"DELETE FROM notification_items WHERE notification_id IN "
               f"(SELECT id FROM notifications WHERE kind IN ({kinds}))")
    op.execute(f"DELETE FROM notifications WHERE kind IN ({kinds})")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_kind_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_notifications_kind_known'),
                                         _kind_check(NOTICE_KINDS_BEFORE))
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.execute('DROP TRIGGER IF EXISTS events_head')
    with op.batch_alter_table('issue_spans', schema=None) as batch_op:
        batch_op.drop_column('chased_on')
        batch_op.drop_column('warn_from')
    with op.batch_alter_table('issues', schema=None) as batch_op:
        for name in ('open_orders', 'last_urged_at', 'urge_count', 'chased_on', 'warn_from'):
            batch_op.drop_column(name)
    if sqlite:
        op.execute(SQLITE_HEAD)
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('warn_days')
