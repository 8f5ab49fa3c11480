"""registered_on on every issue, and issue_spans: the ledger as it stood on any day

``registered_on`` (登记日期): existing issues take the local date (TRACKER_TIMEZONE) of their
``created_at``.  ``issue_spans`` holds, per issue, the stretches of unchanged status, due
date, closing date, extension count, org, category, campaign and owner; the reports as of a
past day read them (tracker/issues/reports/spans.py).  The spans of existing issues are built
here from their events, a few thousand issues at a time; where the history and the issue row
disagree, the row's present state wins from the last event on.

Revision ID: 0007
Revises: 0003
Create Date: 2026-12-01 23:30:00

"""
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

OPEN = "status IN ('open', 'in_progress', 'submitted')"
TRACKED = ("status", "due_on", "closed_on", "extension_count", "org_id", "category_id",
           "campaign_id", "owner_id")
DATES = ("due_on", "closed_on")
CHUNK = 5000


def _zone():
    try:
        from flask import current_app

        return ZoneInfo(current_app.config.get("TRACKER_TIMEZONE", "Asia/Shanghai"))
    except RuntimeError:  # outside an app (plain alembic)
        return ZoneInfo("Asia/Shanghai")


def _local_date(value, zone):
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone).date()


def _start_of(day, zone):
    local = datetime.combine(day, time(0), tzinfo=zone)
    return local.astimezone(UTC).replace(tzinfo=None)


def _as_date(value):
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _fill_registered_on(bind, zone):
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text(
            "UPDATE issues SET registered_on = "
            "(created_at AT TIME ZONE 'UTC' AT TIME ZONE :tz)::date"
        ), {"tz": zone.key})
        return
    issues = sa.table("issues", sa.column("id"), sa.column("created_at", sa.DateTime),
                      sa.column("registered_on", sa.Date))
    last = 0
    while True:
        rows = bind.execute(sa.select(issues.c.id, issues.c.created_at)
                            .where(issues.c.id > last).order_by(issues.c.id)
                            .limit(CHUNK)).all()
        if not rows:
            return
        bind.execute(
            issues.update().where(issues.c.id == sa.bindparam("b_id"))
            .values(registered_on=sa.bindparam("b_on")),
            [{"b_id": r.id, "b_on": _local_date(r.created_at, zone)} for r in rows],
        )
        last = rows[-1].id


def _spans_of(issue, events, zone):
    """Replay one issue's events into spans (this migration only; the app writes them)."""
    start = _start_of(issue["registered_on"], zone)
    state = None
    spans = []
    for ev in events:
        changes = ev["changes"] or {}
        if isinstance(changes, str):
            import json

            changes = json.loads(changes)
        after = {k: v[1] for k, v in changes.items() if isinstance(v, list | tuple) and len(v) == 2}
        if state is None:
            if ev["kind"] != "created":
                break
            state = {"status": "open", "closed_on": None, "extension_count": 0}
            for name in TRACKED:
                if name in after:
                    state[name] = _as_date(after[name]) if name in DATES else after[name]
            if any(name not in state for name in TRACKED):
                state = None
                break
            spans.append({"valid_from": start, **state})
            continue
        new = dict(state)
        for name in TRACKED:
            if name in after:
                new[name] = _as_date(after[name]) if name in DATES else after[name]
        if "closed_at" in after and "closed_on" not in after:
            new["closed_on"] = _local_date(after["closed_at"], zone)
        if new != state:
            moment = max(ev["at"], spans[-1]["valid_from"])
            spans[-1]["valid_to"] = moment
            spans.append({"valid_from": moment, **new})
            state = new
    current = {name: issue[name] for name in TRACKED}
    if state is None:
        spans = [{"valid_from": start, **current}]
    elif state != current:
        moment = max(issue["updated_at"] or spans[-1]["valid_from"], spans[-1]["valid_from"])
        spans[-1]["valid_to"] = moment
        spans.append({"valid_from": moment, **current})
    for span in spans:
        span.setdefault("valid_to", None)
        span["issue_id"] = issue["id"]
    return spans


def _build_spans(bind, zone):
    def tracked():
        return [sa.column(n, sa.Date) if n in DATES else sa.column(n) for n in TRACKED]

    issues = sa.table("issues", sa.column("id"), sa.column("registered_on", sa.Date),
                      sa.column("updated_at", sa.DateTime), *tracked())
    events = sa.table("events", sa.column("id"), sa.column("issue_id"), sa.column("kind"),
                      sa.column("at", sa.DateTime), sa.column("changes", sa.JSON))
    spans = sa.table("issue_spans", sa.column("issue_id"), sa.column("valid_from", sa.DateTime),
                     sa.column("valid_to", sa.DateTime), *tracked())
    last = 0
    while True:
        rows = [dict(r._mapping) for r in bind.execute(
            sa.select(issues).where(issues.c.id > last).order_by(issues.c.id).limit(CHUNK))]
        if not rows:
            return
        first, last = rows[0]["id"], rows[-1]["id"]
        history = {}
        for ev in bind.execute(
            sa.select(events.c.issue_id, events.c.kind, events.c.at, events.c.changes)
            .where(events.c.issue_id.between(first, last))
            .order_by(events.c.issue_id, events.c.id)
        ):
            history.setdefault(ev.issue_id, []).append(dict(ev._mapping))
        out = []
        for issue in rows:
            issue["registered_on"] = _as_date(issue["registered_on"])
            for name in DATES:
                issue[name] = _as_date(issue[name])
            out += _spans_of(issue, history.get(issue["id"], []), zone)
        if out:
            bind.execute(spans.insert(), out)


def upgrade():
    zone = _zone()
    bind = op.get_bind()
    # A plain ADD COLUMN, not batch mode: on SQLite a batch rebuild of ``issues`` drops the
    # table, which its events and evidence forbid (foreign keys on).  The placeholder default
    # is overwritten at once; PostgreSQL then drops it, SQLite keeps it (harmless: the model
    # always gives the date).
    op.add_column('issues', sa.Column('registered_on', sa.Date(), nullable=False,
                                      server_default='1970-01-01'))
    _fill_registered_on(bind, zone)
    if bind.dialect.name == "postgresql":
        op.alter_column('issues', 'registered_on', server_default=None)

    op.create_table(
        'issue_spans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.Column('valid_from', sa.DateTime(), nullable=False),
        sa.Column('valid_to', sa.DateTime(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('closed_on', sa.Date(), nullable=True),
        sa.Column('extension_count', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from',
                           name=op.f('ck_issue_spans_span_in_order')),
        sa.ForeignKeyConstraint(['issue_id'], ['issues.id'],
                                name=op.f('fk_issue_spans_issue_id_issues')),
        sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_issue_spans_org_id_orgs')),
        sa.ForeignKeyConstraint(['category_id'], ['categories.id'],
                                name=op.f('fk_issue_spans_category_id_categories')),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                                name=op.f('fk_issue_spans_campaign_id_campaigns')),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'],
                                name=op.f('fk_issue_spans_owner_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_spans')),
    )
    _build_spans(bind, zone)
    op.create_index('uq_issue_spans_current', 'issue_spans', ['issue_id'], unique=True,
                    postgresql_where=sa.text('valid_to IS NULL'),
                    sqlite_where=sa.text('valid_to IS NULL'))
    op.create_index('ix_issue_spans_issue', 'issue_spans', ['issue_id', 'valid_from'])
    op.create_index('ix_issue_spans_asof', 'issue_spans',
                    ['org_id', 'valid_from', 'valid_to', 'category_id', 'campaign_id', 'status',
                     'due_on', 'closed_on', 'extension_count'])
    op.create_index('ix_issue_spans_open_org_due', 'issue_spans',
                    ['org_id', 'due_on', 'valid_from', 'valid_to', 'status', 'issue_id', 'id'],
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))


def downgrade():
    op.drop_index('ix_issue_spans_open_org_due', table_name='issue_spans')
    op.drop_index('ix_issue_spans_asof', table_name='issue_spans')
    op.drop_index('ix_issue_spans_issue', table_name='issue_spans')
    op.drop_index('uq_issue_spans_current', table_name='issue_spans')
    op.drop_table('issue_spans')
    # SQLite (3.35+) drops a column in place; no batch rebuild of a referenced table.
    op.drop_column('issues', 'registered_on')
