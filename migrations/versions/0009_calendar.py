"""China's working days: the calendar of exceptions to the Monday–Friday week, seeded from
chinese-calendar; campaigns counted in calendar or working days

The table holds one row per day that breaks the Monday–Friday week: a holiday (even on a
weekday) or a make-up working day (调休, even on a weekend).  It is seeded here with every day
``chinese-calendar`` knows (2004–2026 with 1.11.0), marked ``source = 'package'``; admins keep
the years the package does not know yet and their local days (``source = 'local'``).

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-01 23:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    calendar = op.create_table(
        'calendar_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('holiday', 'workday')", name=op.f('ck_calendar_days_kind_known')),
        sa.CheckConstraint("source IN ('package', 'local')", name=op.f('ck_calendar_days_source_known')),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_days')),
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('day_basis', sa.String(length=16), nullable=False,
                                      server_default='calendar'))
        batch_op.create_check_constraint(op.f('ck_campaigns_day_basis_known'),
                                         "day_basis IN ('calendar', 'working')")

    from datetime import datetime, timezone

    from tracker.issues.calendar.seed import package_days

    now = datetime.now(timezone.utc).replace(tzinfo=None)
    # The columns of this revision only (0017 adds ``national`` and marks these rows).
    columns = ('day', 'kind', 'name', 'source')
    op.bulk_insert(calendar, [{**{c: row[c] for c in columns}, 'updated_at': now}
                              for row in package_days()])


def downgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_campaigns_day_basis_known'), type_='check')
        batch_op.drop_column('day_basis')
    op.drop_table('calendar_days')
