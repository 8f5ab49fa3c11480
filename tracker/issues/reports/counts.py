"""The summary's counts, kept as the ledger changes (issue 26: pages at any scope).

``issue_counts`` holds, for every org and each of its ancestors (the closure table), per
category and campaign, the figures of the summary table over the org's whole subtree: total,
closed, closed late, extended and not closed; and two figures that depend on the day,
overdue (the red light) and yellow, as they stand on the table's day (``issue_counts_day``).
Green is what is not closed, neither red nor yellow.  A whole-country summary then reads a
few hundred rows instead of aggregating a million issues.  The ranking (supervision) reads
three more figures kept beside them (migration 0024): closed on time, the urges
(``urge_count``), and the sum of the overdue ones' deadlines as day numbers
(``overdue_due_days``, a day figure), from which the days overdue of what is overdue on the
table's day are ``overdue × day − overdue_due_days``.

How the table stays right:

* every flush that registers, changes or deletes issues adds the difference of their
  contributions in the same transaction (``_before_flush`` reads the old state from the
  database, ``_after_flush`` writes the deltas to each ancestor's row, one statement);
* an org moved to another parent takes its subtree's counts with it (``subtree_moved``);
* a campaign's warning window moved by a bulk UPDATE (``light.refresh_campaign``) has its
  rows' day figures worked out again (``recount_campaign``);
* the day figures move on with the calendar: ``roll`` (the scheduler, every few minutes)
  brings them to today by adding what changed between the two days,
  under a lock that writers share (PostgreSQL: the day row FOR UPDATE / FOR SHARE);
* ``rebuild`` (migrations 0020 and 0024, the benchmark's generator) builds it
  all from the issues.

The same roll moves the trend's kept past days on (``daily.py``).

Reads use the table only for today's summary and when the table's day is today; any other
day (a past day's spans, a day ahead, or before the day's roll) takes the aggregation in SQL
as before (``service.subtree_counts``), so a figure never depends on whether a sweep ran.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    delete,
    event,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracker.extensions import Model, db
from tracker.issues.models import OPEN_STATUSES, Issue, Light, Status, light_case, light_of
from tracker.owners.models import Org, OrgClosure
from tracker.timeutil import FIRST_DAY, today

#: The figures kept per row, in this order everywhere below.
FIGURES = ("total", "closed", "closed_late", "extended", "open_count", "overdue", "yellow",
           "closed_on_time", "urged", "overdue_due_days")
#: The figures migration 0020 built (those after them came with 0024).
FIGURES_0020 = FIGURES[:7]
#: The figures that depend on the table's day.
DAY_FIGURES = ("overdue", "yellow", "overdue_due_days")
#: The issue's columns a contribution depends on.
TRACKED = ("org_id", "category_id", "campaign_id", "status", "due_on", "closed_on",
           "extension_count", "warn_from", "chased_on", "urge_count")


def day_number(day: date) -> int:
    """A date as a whole number of days (from ``FIRST_DAY``): what ``overdue_due_days`` sums."""
    return (day - FIRST_DAY).days


def _day_number_sql(connection: Any, column: Any) -> Any:
    """``day_number`` of a date column, in SQL on either database."""
    if connection.dialect.name == "postgresql":
        return column - cast(literal(FIRST_DAY), Date)
    return cast(func.julianday(column) - func.julianday(literal(FIRST_DAY.isoformat())),
                Integer)


class IssueCount(Model):
    """The figures of one org's subtree, for one category and campaign."""

    __tablename__ = "issue_counts"

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    closed_late: Mapped[int] = mapped_column(Integer, default=0)
    extended: Mapped[int] = mapped_column(Integer, default=0)
    open_count: Mapped[int] = mapped_column(Integer, default=0)
    overdue: Mapped[int] = mapped_column(Integer, default=0)
    yellow: Mapped[int] = mapped_column(Integer, default=0)
    closed_on_time: Mapped[int] = mapped_column(Integer, default=0)
    #: Urges (催办) of the issues: the sum of their ``urge_count``.
    urged: Mapped[int] = mapped_column(Integer, default=0)
    #: The sum of ``day_number(due_on)`` of the issues overdue on the table's day.
    overdue_due_days: Mapped[int] = mapped_column(BigInteger, default=0)


class IssueCountsDay(Model):
    """The day on which ``issue_counts``' overdue and yellow figures stand (one row, id 1)."""

    __tablename__ = "issue_counts_day"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date | None] = mapped_column(Date)


# --- one issue's contribution ----------------------------------------------------------------

Key = tuple[int, int, int]


def contribution(row: dict[str, Any], day: date | None) -> tuple[int, ...]:
    """What one issue (its TRACKED values) adds to its row, the day figures on ``day``."""
    status, due_on, closed_on = row["status"], row["due_on"], row["closed_on"]
    closed = status == Status.closed
    light = (light_of(status, due_on, row["warn_from"], row["chased_on"], day)
             if day is not None else None)
    red = light == Light.red
    return (1, int(closed), int(closed and closed_on is not None and closed_on > due_on),
            int((row["extension_count"] or 0) > 0), int(status in OPEN_STATUSES),
            int(red), int(light == Light.yellow),
            int(closed and closed_on is not None and closed_on <= due_on),
            int(row["urge_count"] or 0), day_number(due_on) if red else 0)


def _key(row: dict[str, Any]) -> Key:
    return (row["org_id"], row["category_id"], row["campaign_id"])


# --- writing deltas -----------------------------------------------------------------------------


def _insert(connection: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT DO UPDATE."""
    return (postgresql.insert if connection.dialect.name == "postgresql"
            else sqlite.insert)(IssueCount)


def _adding(stmt: Any, figures: tuple[str, ...] = FIGURES) -> Any:
    """``stmt`` (an INSERT of the dialect) adding to the row it meets instead of failing."""
    table = IssueCount.__table__
    return stmt.on_conflict_do_update(
        index_elements=["org_id", "category_id", "campaign_id"],
        set_={f: table.c[f] + stmt.excluded[f] for f in figures})


def _figure_type(name: str) -> Any:
    return BigInteger if name == "overdue_due_days" else Integer


def add_deltas(connection: Any, deltas: dict[Key, list[int]]) -> None:
    """Add each (org, category, campaign) delta to the rows of the org and its ancestors:
    one statement (an INSERT … SELECT from the closure table per delta, sent as one batch)."""
    params = [{"d_org": key[0], "d_cat": key[1], "d_camp": key[2],
               **{f"d_{f}": v for f, v in zip(FIGURES, values, strict=True)}}
              for key, values in sorted(deltas.items()) if any(values)]
    if not params:
        return
    source = select(OrgClosure.ancestor_id, bindparam("d_cat", type_=Integer),
                    bindparam("d_camp", type_=Integer),
                    *(bindparam(f"d_{f}", type_=_figure_type(f)) for f in FIGURES)) \
        .where(OrgClosure.descendant_id == bindparam("d_org", type_=Integer))
    stmt = _adding(_insert(connection).from_select(
        ["org_id", "category_id", "campaign_id", *FIGURES], source))
    connection.execute(stmt, params)


def _day(connection: Any, *, lock: str | None = None) -> date | None:
    """The table's day (None when none was ever set); ``lock`` "share" or "update" takes
    the day row's lock on PostgreSQL for the rest of the transaction."""
    stmt = select(IssueCountsDay.day).where(IssueCountsDay.id == 1)
    if lock is not None:
        stmt = stmt.with_for_update(read=lock == "share")
    return connection.scalar(stmt)  # type: ignore[no-any-return]


#: The session's issues' state before the flush: id → TRACKED values (info key).
_BEFORE = "issue_counts_before"


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    """Read, from the database, the state before this flush of the issues it changes or
    deletes (one statement; none for a flush that only registers)."""
    ids = [obj.id for obj in (*session.dirty, *session.deleted)
           if isinstance(obj, Issue) and obj.id is not None
           and (obj in session.deleted or session.is_modified(obj, include_collections=False))]
    if not ids:
        session.info.pop(_BEFORE, None)
        return
    columns = [getattr(Issue, name) for name in TRACKED]
    before: dict[int, dict[str, Any]] = {}
    connection = session.connection()
    for start in range(0, len(ids), 1000):
        for row in connection.execute(select(Issue.id, *columns)
                                      .where(Issue.id.in_(ids[start:start + 1000]))):
            before[row[0]] = dict(zip(TRACKED, row[1:], strict=True))
    session.info[_BEFORE] = before


def _after_flush(session: Session, _context: Any) -> None:
    """Add to the counts what this flush changed: each issue's contribution now, less its
    contribution before (both on the table's day), in the flush's transaction."""
    before: dict[int, dict[str, Any]] = session.info.pop(_BEFORE, None) or {}
    changes: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = []
    for obj in session.new:
        if isinstance(obj, Issue):
            changes.append((None, {name: obj.__dict__.get(name) for name in TRACKED}))
    for obj in (*session.dirty, *session.deleted):
        if not isinstance(obj, Issue) or obj.id not in before:
            continue
        old = before[obj.id]
        if obj in session.deleted:
            changes.append((old, None))
            continue
        now = {name: obj.__dict__.get(name, old[name]) for name in TRACKED}
        if now != old:
            changes.append((old, now))
    if not changes:
        return
    connection = session.connection()
    day = _day(connection, lock="share")
    deltas: dict[Key, list[int]] = defaultdict(lambda: [0] * len(FIGURES))
    for was, will in changes:
        for row, sign in ((was, -1), (will, 1)):
            if row is not None:
                acc = deltas[_key(row)]
                for i, v in enumerate(contribution(row, day)):
                    acc[i] += sign * v
    add_deltas(connection, deltas)


def init_listeners() -> None:
    """Keep the counts on every flush of the app's sessions (once per process)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)


# --- moving an org, a campaign's window --------------------------------------------------------


def subtree_moved(sender: Any = None, *, org_id: int, left: list[int], joined: list[int],
                  **_: Any) -> None:
    """Listener of ``owners.service.subtree_moved``: the org's subtree counts leave the
    ancestors it ``left`` and join those it ``joined`` (two statements)."""
    connection = db.session.connection()
    table = IssueCount.__table__
    for ancestors, sign in ((left, -1), (joined, 1)):
        if not ancestors:
            continue
        moved = select(table.c.category_id, table.c.campaign_id,
                       *(table.c[f] for f in FIGURES)).where(table.c.org_id == org_id) \
            .subquery()
        source = select(Org.id, moved.c.category_id, moved.c.campaign_id,
                        *(moved.c[f] * sign for f in FIGURES)) \
            .select_from(Org).join(moved, literal(True)).where(Org.id.in_(ancestors))
        connection.execute(_adding(_insert(connection).from_select(
            ["org_id", "category_id", "campaign_id", *FIGURES], source)))


def recount_campaign(campaign_id: int) -> None:
    """Work the day figures of one campaign's rows out again from its issues (after its
    warning window moved every issue's ``warn_from`` at once)."""
    connection = db.session.connection()
    day = _day(connection, lock="share")
    connection.execute(update(IssueCount).where(IssueCount.campaign_id == campaign_id)
                       .values(dict.fromkeys(DAY_FIGURES, 0)))
    if day is not None:
        _add_aggregate(connection, Issue.campaign_id == campaign_id, day, None,
                       figures=DAY_FIGURES)


# --- aggregates: rebuild and roll --------------------------------------------------------------


def _add_aggregate(connection: Any, where: Any, day: date | None, since: date | None,
                   figures: tuple[str, ...] = FIGURES,
                   columns: tuple[str, ...] = FIGURES) -> None:
    """Add to every ancestor's rows, grouped in SQL, the ``figures`` of the issues matching
    ``where`` on ``day``, less (when ``since`` is given) their day figures on ``since``;
    ``columns``: the figures the table has (all but in migration 0020)."""
    closed = Issue.status == Status.closed

    def count(condition: Any, value: Any = 1) -> Any:
        return func.coalesce(func.sum(case((condition, value), else_=0)), 0)

    def lit(on: date | None, light: str) -> Any:
        if on is None:
            return literal(False)
        return light_case(Issue.status, Issue.due_on, Issue.warn_from, Issue.chased_on,
                          on) == light

    due_number = _day_number_sql(connection, Issue.due_on)
    exprs = {
        "total": func.count(Issue.id),
        "closed": count(closed),
        "closed_late": count(and_(closed, Issue.closed_on > Issue.due_on)),
        "extended": count(Issue.extension_count > 0),
        "open_count": count(Issue.status.in_(OPEN_STATUSES)),
        "overdue": count(lit(day, Light.red)),
        "yellow": count(lit(day, Light.yellow)),
        "closed_on_time": count(and_(closed, Issue.closed_on <= Issue.due_on)),
        "urged": func.coalesce(func.sum(Issue.urge_count), 0),
        "overdue_due_days": count(lit(day, Light.red), due_number),
    }
    if since is not None:
        exprs["overdue"] = exprs["overdue"] - count(lit(since, Light.red))
        exprs["yellow"] = exprs["yellow"] - count(lit(since, Light.yellow))
        exprs["overdue_due_days"] = (exprs["overdue_due_days"]
                                     - count(lit(since, Light.red), due_number))
    values = [exprs[f] if f in figures else literal(0) for f in columns]
    source = (select(OrgClosure.ancestor_id, Issue.category_id, Issue.campaign_id, *values)
              .select_from(Issue).join(OrgClosure, OrgClosure.descendant_id == Issue.org_id)
              .where(where)
              .group_by(OrgClosure.ancestor_id, Issue.category_id, Issue.campaign_id))
    connection.execute(_adding(_insert(connection).from_select(
        ["org_id", "category_id", "campaign_id", *columns], source, include_defaults=False),
        columns))


def rebuild(connection: Any, day: date, figures: tuple[str, ...] = FIGURES) -> None:
    """Build the whole table from the issues, its day figures on ``day`` (one aggregation);
    ``figures``: the columns the table has at the migration that calls it."""
    _set_day(connection, day, lock=True)
    connection.execute(delete(IssueCount))
    _add_aggregate(connection, literal(True), day, None, figures, figures)


def _set_day(connection: Any, day: date, *, lock: bool = False) -> date | None:
    """Set the table's day; the day it was (None if none).  ``lock``: hold the day row."""
    was = _day(connection, lock="update" if lock else None)
    if connection.scalar(select(func.count()).select_from(IssueCountsDay)) == 0:
        connection.execute(insert(IssueCountsDay).values(id=1, day=day))
    else:
        connection.execute(update(IssueCountsDay).where(IssueCountsDay.id == 1).values(day=day))
    return was


def roll(day: date | None = None) -> date | None:
    """Bring the day figures to ``day`` (default today), in the caller's transaction: the
    open issues whose light differs between the two days move (one aggregation of them, by
    the ledger's rule ``light_case``); nothing when the table is on that day already.
    Writers wait on the day row meanwhile.  Returns the day it was on."""
    day = day or today()
    connection = db.session.connection()
    was = _day(connection, lock="update")
    if was == day:
        return was
    _set_day(connection, day)
    open_now = Issue.status.in_(OPEN_STATUSES)
    if was is None:
        connection.execute(update(IssueCount).values(dict.fromkeys(DAY_FIGURES, 0)))
        _add_aggregate(connection, open_now, day, None, figures=DAY_FIGURES)
    else:
        def light(on: date) -> Any:
            return light_case(Issue.status, Issue.due_on, Issue.warn_from, Issue.chased_on, on)
        _add_aggregate(connection, and_(open_now, light(day) != light(was)), day, was,
                       figures=DAY_FIGURES)
    # The trend's kept days move with the same day, under the same lock.
    from tracker.issues.reports import daily

    daily.roll(connection, was, day)
    return was


# --- reading ------------------------------------------------------------------------------------


@dataclass
class Figures:
    """A summary cell: what ``service.subtree_counts`` gives per (org, category)."""

    total: int = 0
    closed: int = 0
    closed_late: int = 0
    extended: int = 0
    overdue: int = 0
    red: int = 0
    yellow: int = 0
    green: int = 0
    closed_on_time: int = 0
    #: The days overdue of what is overdue, summed (the ranking's ``overdue_days``).
    overdue_days: int = 0
    urged: int = 0


def kept_subtree_counts(parents: list[int], as_of: date, campaign_id: int | None = None,
                        *, whole: bool = False) -> dict[tuple[int, int], Figures] | None:
    """``service.subtree_counts`` read from the kept table: per child of ``parents`` (its
    subtree) and per parent (its own findings: its subtree less its children's), by category;
    with ``whole``, per parent (its whole subtree) alone.
    None when the table cannot answer for ``as_of`` (not today, or not rolled to today)."""
    if as_of != today():
        return None
    unit_parent = Org.parent_id
    sums = [func.sum(getattr(IssueCount, f)).label(f) for f in FIGURES]
    grouped = (select(IssueCount.org_id, unit_parent.label("parent_id"), IssueCount.category_id,
                      *sums)
               .join(Org, Org.id == IssueCount.org_id)
               .where(Org.id.in_(parents) if whole
                      else or_(Org.parent_id.in_(parents), Org.id.in_(parents)))
               .group_by(IssueCount.org_id, unit_parent, IssueCount.category_id))
    if campaign_id is not None:
        grouped = grouped.where(IssueCount.campaign_id == campaign_id)
    rows = grouped.subquery()
    # The table's day rides along every row (one statement): rows of another day are not
    # today's figures.
    found = db.session.execute(
        select(IssueCountsDay.day, rows).select_from(IssueCountsDay)
        .outerjoin(rows, literal(True)).where(IssueCountsDay.id == 1)).all()
    if not found or found[0].day != as_of:
        return None
    raw: dict[tuple[int, int], list[int]] = {}
    children: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0] * len(FIGURES))
    parent_set = set() if whole else set(parents)
    for row in found:
        if row.org_id is None:
            continue  # the day alone: nothing counted
        values = [int(getattr(row, f) or 0) for f in FIGURES]
        raw[(row.org_id, row.category_id)] = values
        if row.org_id not in parent_set and row.parent_id in parent_set:
            acc = children[(row.parent_id, row.category_id)]
            for i, v in enumerate(values):
                acc[i] += v
    result: dict[tuple[int, int], Figures] = {}
    for (org_id, category_id), values in raw.items():
        if org_id in parent_set:  # its own findings: its subtree less its children's
            below = children.get((org_id, category_id), [0] * len(FIGURES))
            values = [a - b for a, b in zip(values, below, strict=True)]
        if values[0] <= 0:
            continue
        named = dict(zip(FIGURES, values, strict=True))
        result[(org_id, category_id)] = Figures(
            total=named["total"], closed=named["closed"], closed_late=named["closed_late"],
            extended=named["extended"], overdue=named["overdue"], red=named["overdue"],
            yellow=named["yellow"],
            green=named["open_count"] - named["overdue"] - named["yellow"],
            closed_on_time=named["closed_on_time"], urged=named["urged"],
            overdue_days=named["overdue"] * day_number(as_of) - named["overdue_due_days"])
    return result


@dataclass
class Rolled:
    """What ``roll_today`` did: the day the table was on, and the day it is on now."""

    was: date | None
    day: date

    @property
    def claimed(self) -> bool:
        """Whether the day figures moved (the scheduler logs only then)."""
        return self.was != self.day

    def summary(self) -> str:
        """One line for the log."""
        was = self.was.isoformat() if self.was else "none"
        return f"Summary counts: day figures moved from {was} to {self.day.isoformat()}."


def roll_today() -> Rolled:
    """``roll`` to today and commit (the scheduler's job)."""
    day = today()
    was = roll(day)
    db.session.commit()
    return Rolled(was, day)
