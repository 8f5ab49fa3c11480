"""The overdue report and the summary table (汇总表), aggregated in SQL.

Both reports are plain functions of the actor and plain values, so that the API, the web
pages and the benchmarks share them.  ``as_of`` is the day the report is taken: today (the
default, or a later day, for which only the date arithmetic moves) reads the issues as they
are; a past day reads the ledger as it stood at the end of that day (SPEC §4) from the
issues' status spans (``spans.py``): the issues registered by then, each with the status,
due date, closing date and extension count its history records then.  Each report runs a
fixed number of statements whatever the size of the ledger or the day asked for.

Longer than our ~500 lines by a little: the two reports share their scope, filters and the
as-of-a-day reading, which would otherwise be passed between modules.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    any_,
    case,
    func,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import aliased

from tracker import documents, spreadsheets
from tracker.errors import Forbidden, NotFound
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import history, rules, sheets
from tracker.issues.models import LIGHTS, Campaign, Category, Issue, Status
from tracker.issues.reports import counts
from tracker.issues.reports.spans import IssueSpan, as_of_clause, as_of_ranges
from tracker.owners import service as owners
from tracker.owners.models import Org, OrgClosure, Role, User
from tracker.paging import page_meta, page_offset
from tracker.timeutil import format_date, reader_language, today

#: The overdue list's columns (headings: ``sheets.COLUMN_LABELS``).
OVERDUE_COLUMNS = ("issue_id", "title", "status", "org", "owner", "due_on", "days_overdue")
#: The summary table's columns (headings: ``sheets.COLUMN_LABELS``).
SUMMARY_COLUMNS = ("no", "org", "category", "total", "closed", "closed_late", "extended",
                   "overdue", "completion_rate")
#: Rows fetched at a time when a download walks the whole overdue list.
DOWNLOAD_BATCH = 1000


# --- checks ------------------------------------------------------------------------------


def require_report_reader(user: User) -> None:
    """Refuse officers (403): the reports are for registrars, supervisors and admins."""
    if not rules.may_register(user.role):  # SPEC §3: the roles that register read reports
        raise Forbidden(_l("Only registrars, supervisors and admins see the reports."),
                        reason="reports_forbidden")


def _org_in_scope(user: User, org_id: int) -> Org:
    """The org, when it exists and lies in the user's scope; 404 otherwise."""
    org = db.session.get(Org, org_id)
    if org is None or not owners.in_scope(user, org_id):
        raise NotFound(_l("No such org in your scope."), errors={"org_id": [_l("No such org.")]})
    return org


def _campaign(campaign_id: int | None) -> Campaign | None:
    if campaign_id is None:
        return None
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise Invalid(_l("No such campaign."), errors={"campaign_id": [_l("No such campaign.")]})
    return campaign


def _check_category(category_id: int | None) -> None:
    if category_id is not None and db.session.get(Category, category_id) is None:
        raise Invalid(_l("No such category."), errors={"category_id": [_l("No such category.")]})


# --- the ledger on a day ------------------------------------------------------------------


@dataclass
class Ledger:
    """Where a report reads the ledger of its day: the issues now, or the spans then.

    ``rows`` has the columns the reports count and filter by (status, due_on, closed_on,
    extension_count, org_id, category_id, campaign_id, owner_id, is_overdue_on); ``key`` is
    its primary key, ``issue_id`` the issue's id, ``where`` what picks one row per issue.
    """

    rows: Any
    key: Any
    issue_id: Any
    where: list[ColumnElement[bool]] = field(default_factory=list)
    #: ``where`` as disjoint parts, each one range of an index (see ``as_of_ranges``).
    parts: tuple[ColumnElement[bool], ...] = ()

    @property
    def past(self) -> bool:
        """Whether this is the ledger of a past day (spans)."""
        return self.rows is IssueSpan


def ledger_on(as_of: date) -> Ledger:
    """The ledger as it stood at the end of ``as_of``: the issues themselves for today (or
    later), their spans for a past day."""
    if as_of >= today():
        return Ledger(Issue, Issue.id, Issue.id)
    return Ledger(IssueSpan, IssueSpan.id, IssueSpan.issue_id, [as_of_clause(as_of)],
                  as_of_ranges(as_of))


# --- the overdue report ------------------------------------------------------------------


def _overdue_filters(
    user: User,
    ledger: Ledger,
    as_of: date,
    org_id: int | None,
    category_id: int | None,
    campaign_id: int | None,
) -> list[ColumnElement[bool]]:
    """The WHERE clauses of the overdue report, after checking role, scope and filters."""
    require_report_reader(user)
    src = ledger.rows
    # An IN list, not "<> closed": indexes answer IN lists on both databases.
    where: list[ColumnElement[bool]] = [src.is_overdue_on(as_of), *ledger.where]
    if org_id is not None:
        _org_in_scope(user, org_id)
        where.append(_in_subtree(org_id, src.org_id))
    elif user.role != Role.admin and user.org_id is not None:
        where.append(_in_subtree(user.org_id, src.org_id))  # the user's scope
    else:
        where.append(owners.scope_clause(user, src.org_id))
    _check_category(category_id)
    if category_id is not None:
        where.append(src.category_id == category_id)
    _campaign(campaign_id)
    if campaign_id is not None:
        where.append(src.campaign_id == campaign_id)
    return where


def _in_subtree(org_id: int, column: Any = Issue.org_id) -> ColumnElement[bool]:
    """The issue's org lies in ``org_id``'s subtree.

    On PostgreSQL written ``org_id = ANY(ARRAY(subtree))``: the planner then reads each org's
    overdue issues from the (org_id, status, due_on, id) index, where with ``IN (subtree)`` it
    walks every deadline of the ledger in order hoping to meet the subtree's soon, ten times
    slower for a prefecture (bench/README.md).
    """
    subtree = owners.subtree_ids(org_id)
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(func.array(subtree.scalar_subquery()))  # type: ignore[no-any-return]
    return column.in_(subtree)  # type: ignore[no-any-return]


def _overdue_columns(ledger: Ledger) -> Select[*tuple[Any, ...]]:
    src = ledger.rows
    stmt = select(ledger.issue_id.label("id"), Issue.title, src.status, src.org_id,
                  src.owner_id, User.display_name.label("owner_name"), src.due_on)
    if ledger.past:
        stmt = stmt.select_from(IssueSpan).join(Issue, Issue.id == IssueSpan.issue_id)
    return stmt.join(User, User.id == src.owner_id)


def overdue_query(
    user: User,
    as_of: date | None = None,
    org_id: int | None = None,
    category_id: int | None = None,
    campaign_id: int | None = None,
) -> Select[*tuple[Any, ...]]:
    """The SELECT of overdue issues in the user's scope, most overdue first."""
    as_of = as_of or today()
    ledger = ledger_on(as_of)
    where = _overdue_filters(user, ledger, as_of, org_id, category_id, campaign_id)
    return (_overdue_columns(ledger).where(*where)
            .order_by(ledger.rows.due_on, ledger.issue_id))


def _overdue_dicts(rows: list[Any], as_of: date) -> list[dict[str, Any]]:
    """Rows of a page as dicts, with each org's path fetched in one query."""
    paths = owners.org_paths({r.org_id for r in rows})
    return [
        {
            "id": r.id, "title": r.title, "status": r.status, "org_id": r.org_id,
            "org_path": paths.get(r.org_id, ""), "owner_id": r.owner_id,
            "owner_name": r.owner_name, "due_on": r.due_on,
            "days_overdue": (as_of - r.due_on).days,
        }
        for r in rows
    ]


def overdue_rows(
    user: User,
    as_of: date | None = None,
    org_id: int | None = None,
    category_id: int | None = None,
    campaign_id: int | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """One page of the overdue report and its pagination metadata (X-Pagination)."""
    as_of = as_of or today()
    ledger = ledger_on(as_of)
    src = ledger.rows
    # For a past day, the rows that held then are read as two index ranges (the spans still
    # current, those ended since), counted and paged together: the OR of the two made both
    # planners walk every open span due by then (bench/README.md).
    common = _overdue_filters(user, replace(ledger, where=[]), as_of, org_id, category_id,
                              campaign_id)
    parts = [[*common, part] for part in ledger.parts] or [common]
    # Counted on the issues alone (every issue has its owner), which an index answers
    # without reading the table: a country's admin counts some 100,000 overdue issues.  The
    # count rides along the page as a scalar subquery, evaluated once: one round trip.
    counted = [select(func.count()).select_from(src).where(*where).scalar_subquery()
               for where in parts]
    total_q: Any = functools.reduce(operator.add, counted)
    kept = _kept_overdue(user, as_of, org_id, category_id, campaign_id)
    if kept is not None:
        total_q = case(kept, else_=total_q)
    # The page's ids first, from the same index; then only those rows, with their owners.
    order = (src.due_on, ledger.issue_id)
    offset = page_offset(page, page_size)
    if len(parts) == 1:
        page_ids: Any = (select(ledger.key).where(*parts[0]).order_by(*order)
                         .limit(page_size).offset(offset).scalar_subquery())
    else:
        ranked = union_all(*(
            select(ledger.key.label("key"), src.due_on.label("due_on"),
                   ledger.issue_id.label("issue_id")).where(*where)
            for where in parts
        )).order_by(text("due_on"), text("issue_id")).limit(page_size).offset(offset).subquery()
        page_ids = select(ranked.c.key).scalar_subquery()
    rows = db.session.execute(
        _overdue_columns(ledger).add_columns(total_q.label("total_count"))
        .where(ledger.key.in_(page_ids))
        .order_by(*order)
    ).all()
    # A page past the end holds no row to carry the count: then it is asked for alone.
    total = rows[0].total_count if rows else int(db.session.scalar(select(total_q)) or 0)
    meta = page_meta(total, page, page_size)
    return _overdue_dicts(list(rows), as_of), meta


def _kept_overdue(user: User, as_of: date, org_id: int | None, category_id: int | None,
                  campaign_id: int | None) -> Any:
    """Today's overdue total of the report's subtree from the kept counts (their red figure,
    the overdue rule itself): a CASE branch (the counts' day is today, their figure), the
    count itself its ELSE for when the counts do not stand on today yet (before the
    scheduler's roll); the database evaluates only the branch it takes, in the page's one
    statement.  None for a past day, or for a reader whose scope is not one subtree (an
    admin without ``org_id``)."""
    within = org_id if org_id is not None else (
        user.org_id if user.role != Role.admin else None)
    if as_of != today() or within is None:
        return None
    figures = select(func.coalesce(func.sum(counts.IssueCount.overdue), 0)).where(
        counts.IssueCount.org_id == within)
    if category_id is not None:
        figures = figures.where(counts.IssueCount.category_id == category_id)
    if campaign_id is not None:
        figures = figures.where(counts.IssueCount.campaign_id == campaign_id)
    day = select(counts.IssueCountsDay.day).where(counts.IssueCountsDay.id == 1)
    return (day.scalar_subquery() == as_of, figures.scalar_subquery())


def overdue(user: User, as_of: date | None = None, limit: int = 15,
            **filters: Any) -> list[dict[str, Any]]:
    """The ``limit`` most overdue issues (for dashboards)."""
    rows, _meta = overdue_rows(user, as_of, page=1, page_size=limit, **filters)
    return rows


def iter_overdue(
    user: User,
    as_of: date | None = None,
    org_id: int | None = None,
    category_id: int | None = None,
    campaign_id: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Every overdue row, fetched in batches so that memory stays bounded.

    Permission and filters are checked at once, before the first row is asked for.
    """
    as_of = as_of or today()
    stmt = overdue_query(user, as_of, org_id, category_id, campaign_id)
    return _batches(stmt, as_of)


def _batches(stmt: Select[*tuple[Any, ...]], as_of: date) -> Iterator[dict[str, Any]]:
    result = db.session.execute(stmt.execution_options(yield_per=DOWNLOAD_BATCH))
    for batch in result.partitions():
        yield from _overdue_dicts(list(batch), as_of)


# --- the summary table -------------------------------------------------------------------


def summary_parents(user: User, org_id: int | None) -> list[int]:
    """The orgs whose children make the rows: org_id, else the home org, else the roots."""
    if org_id is not None:
        _org_in_scope(user, org_id)
        return [org_id]
    if user.role == Role.admin and user.org_id is None:
        return list(db.session.scalars(select(Org.id).where(Org.parent_id.is_(None))))
    if user.org_id is None:
        raise NotFound(_l("No such org in your scope."), errors={"org_id": [_l("No such org.")]})
    return [user.org_id]


#: The name the ranking (``supervision.ranking``) calls it by.
_summary_parents = summary_parents


def _ratio(closed: int, total: int) -> float:
    return round(closed / total, 4) if total else 0.0


def subtree_counts(
    parents: list[int], as_of: date, campaign_id: int | None = None, *, whole: bool = False
) -> dict[tuple[int, int], Any]:
    """The summary's aggregation, one GROUP BY in SQL: for each child of ``parents`` (its
    whole subtree, by the closure table) and for each parent's own findings, per category
    (``whole``: for each parent's whole subtree instead):
    total, closed, closed_late, extended and overdue on ``as_of``, and the traffic light's
    red, yellow and green then (the spans keep the light's inputs too).

    Keyed by (org id, category id); the summary table and the public disclosure
    (``issues.public``) both read it, so that a figure means the same in both.  Today's
    figures come from the counts kept as the ledger changes (``counts.py``) when they stand
    on today; any other day is aggregated here.
    """
    kept = counts.kept_subtree_counts(parents, as_of, campaign_id, whole=whole)
    if kept is not None:
        return kept  # type: ignore[return-value]
    return aggregated_counts(parents, as_of, campaign_id, whole=whole)


def aggregated_counts(
    parents: list[int], as_of: date, campaign_id: int | None = None, *, whole: bool = False
) -> dict[tuple[int, int], Any]:
    """``subtree_counts`` aggregated from the ledger of ``as_of`` (the issues, or their spans
    for a past day): one GROUP BY over the closure join."""
    unit = aliased(Org)
    ledger = ledger_on(as_of)
    src = ledger.rows  # the issues now, or their spans at the end of as_of
    closed = src.status == Status.closed
    stmt = (
        select(
            OrgClosure.ancestor_id.label("org_id"),
            src.category_id,
            func.count(ledger.key).label("total"),
            func.sum(case((closed, 1), else_=0)).label("closed"),
            func.sum(case((and_(closed, src.closed_on > src.due_on), 1), else_=0))
            .label("closed_late"),
            func.sum(case((src.extension_count > 0, 1), else_=0)).label("extended"),
            func.sum(case((src.is_overdue_on(as_of), 1), else_=0))
            .label("overdue"),
            *(func.sum(case((src.lit_on(light, as_of), 1), else_=0)).label(light)
              for light in LIGHTS),
        )
        .select_from(src)
        .join(OrgClosure, OrgClosure.descendant_id == src.org_id)
        .join(unit, unit.id == OrgClosure.ancestor_id)
        .where(OrgClosure.ancestor_id.in_(parents) if whole else subtree_units(parents, unit),
               *ledger.where)
        .group_by(OrgClosure.ancestor_id, src.category_id)
    )
    if campaign_id is not None:
        stmt = stmt.where(src.campaign_id == campaign_id)
    return {(r.org_id, r.category_id): r for r in db.session.execute(stmt)}


def subtree_units(parents: list[int], unit: Any) -> ColumnElement[bool]:
    """Joined to ``OrgClosure`` (ancestor ``unit``): the issue's row of the unit it counts
    for, a child of a parent, or the parent itself for the parent's own findings."""
    return or_(
        unit.parent_id.in_(parents),
        and_(OrgClosure.ancestor_id.in_(parents), OrgClosure.distance == 0),
    )


def summary_rows(
    user: User,
    campaign_id: int | None = None,
    as_of: date | None = None,
    org_id: int | None = None,
    *,
    tops: bool = False,
) -> list[dict[str, Any]]:
    """The 汇总表: per child org of ``org_id`` and category, then a total row per child.

    Each child counts its whole subtree (closure table).  Findings registered on the parent
    org itself, which belong to no child, get rows of their own under the parent's id, so
    that the table adds up to the whole scope.  Every category appears, zeros included.

    ``tops`` (the pages): where the scope has several tops (an admin's several roots), the
    rows are the tops themselves, each with its whole subtree, so that a country of twenty
    prefectures reads as twenty rows leading down into each (``summary_top_level``).
    """
    require_report_reader(user)
    as_of = as_of or today()
    parents = summary_parents(user, org_id)
    _campaign(campaign_id)
    whole = tops and summary_top_level(org_id, parents)

    org_rows = db.session.execute(
        select(Org.id, Org.local_name_column().label("name"), Org.parent_id)
        .where(Org.id.in_(parents) if whole
               else or_(Org.parent_id.in_(parents), Org.id.in_(parents)))
        .order_by(Org.depth, Org.id)
    ).all()
    categories = db.session.execute(
        select(Category.id, Category.local_name_column().label("name"))
        .order_by(Category.code, Category.id)
    ).all()

    counts = subtree_counts(parents, as_of, campaign_id, whole=whole)

    fields = ("total", "closed", "closed_late", "extended", "overdue", *LIGHTS)
    result: list[dict[str, Any]] = []
    for org in org_rows:
        is_parent = org.id in parents and not whole
        if is_parent and not any(key[0] == org.id for key in counts):
            continue  # nothing registered on the parent itself: no row for it
        sums = dict.fromkeys(fields, 0)
        for cat in categories:
            found = counts.get((org.id, cat.id))
            values = {f: int(getattr(found, f) or 0) if found else 0 for f in fields}
            for f in fields:
                sums[f] += values[f]
            result.append({"org_id": org.id, "org_name": org.name, "category_id": cat.id,
                           "category_name": cat.name, **values,
                           "completion_rate": _ratio(values["closed"], values["total"])})
        result.append({"org_id": org.id, "org_name": org.name, "category_id": None,
                       "category_name": None, **sums,
                       "completion_rate": _ratio(sums["closed"], sums["total"])})
    # The parent's own findings (if any) come after its children, as 本级 does in print.
    if not whole:
        result.sort(key=lambda r: r["org_id"] in parents)
    return result


def summary_top_level(org_id: int | None, parents: list[int]) -> bool:
    """Whether a page's summary lists the tops of the scope themselves rather than their
    children: when no unit is chosen and the scope has several tops (an admin's roots)."""
    return org_id is None and len(parents) > 1



# --- downloads ---------------------------------------------------------------------------

#: The counts of a summary line, in the order of its columns.
_COUNTS = ("total", "closed", "closed_late", "extended", "overdue")


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def summary_title(campaign: Campaign | None, as_of: date | None = None,
                  unit: Org | None = None) -> str:
    """The title line of the printed summary table, in the reader's language: the unit, the
    campaign and its reference (文号)."""
    head = campaign.local_title if campaign else str(_l("Self-inspection and rectification"))
    if unit is not None:
        head = f"{unit.local_name} {head}"
    title = str(_l("%(campaign)s: summary of rectification", campaign=head))
    if campaign is not None and campaign.reference:
        title += f"（{campaign.reference}）"
    return title


def as_of_line(as_of: date) -> str:
    """统计截至 2018年12月1日 (in the reader's language)."""
    return str(_l("As of %(date)s", date=format_date(as_of)))


@dataclass
class SummaryUnit:
    """One unit of the printed summary: its name, its category lines and its subtotal."""

    number: int
    name: str
    lines: list[dict[str, Any]]
    subtotal: dict[str, Any]


def summary_units(user: User, campaign_id: int | None = None, as_of: date | None = None,
                  org_id: int | None = None, include_empty: bool = False) -> list[SummaryUnit]:
    """The summary's rows grouped by unit, numbered; units without any finding left out
    unless ``include_empty`` (a printed table lists the units that have work)."""
    rows = summary_rows(user, campaign_id, as_of, org_id)
    parents = set(summary_parents(user, org_id))
    units: list[SummaryUnit] = []
    lines: list[dict[str, Any]] = []
    for r in rows:
        if r["category_id"] is not None:
            lines.append(r)
            continue
        if r["total"] or include_empty:
            name = r["org_name"]
            if r["org_id"] in parents:
                name = str(_l("%(name)s (own level)", name=name))
            units.append(SummaryUnit(len(units) + 1, name, lines, r))
        lines = []
    return units


def _grand_total(units: list[SummaryUnit]) -> dict[str, Any]:
    grand = {f: sum(u.subtotal[f] for u in units) for f in _COUNTS}
    return {**grand, "completion_rate": _ratio(grand["closed"], grand["total"])}


def summary_csv(user: User, campaign_id: int | None = None, as_of: date | None = None,
                org_id: int | None = None, include_empty: bool = False) -> IO[bytes]:
    """The summary as CSV: the headings in the reader's language, then the table: each
    unit's categories, its subtotal, and the total at the end."""
    units = summary_units(user, campaign_id, as_of or today(), org_id, include_empty)
    subtotal, total = str(_l("Subtotal")), str(_l("Total"))

    def lines() -> Iterator[list[Any]]:
        yield sheets.headings(SUMMARY_COLUMNS)
        for unit in units:
            for r in unit.lines:
                yield [unit.number, unit.name, r["category_name"], *[r[f] for f in _COUNTS],
                       _percent(r["completion_rate"])]
            s = unit.subtotal
            yield [unit.number, unit.name, subtotal, *[s[f] for f in _COUNTS],
                   _percent(s["completion_rate"])]
        grand = _grand_total(units)
        yield ["", total, "", *[grand[f] for f in _COUNTS], _percent(grand["completion_rate"])]

    return spreadsheets.csv_file(lines())


#: Column widths of the printed summary, in characters.
SUMMARY_WIDTHS = (6, 26, 40, 10, 10, 10, 8, 10, 10)


def summary_xlsx(user: User, campaign_id: int | None = None, as_of: date | None = None,
                 org_id: int | None = None, include_empty: bool = False) -> IO[bytes]:
    """The summary as the 汇总表 a prefecture prints: a title and the 统计截至 line; 序号,
    unit cells merged over their categories and subtotal (小计); the total (合计); landscape,
    one page wide, the header row repeated on every page; the signature lines, and the
    latest history anchor at the foot."""
    as_of = as_of or today()
    units = summary_units(user, campaign_id, as_of, org_id, include_empty)
    campaign = _campaign(campaign_id)
    width = len(SUMMARY_COLUMNS)
    reporting = sheets.report_unit(user, org_id)
    lang = "bo" if reader_language() == "bo" else "zh"

    book = spreadsheets.Workbook()
    # A4 landscape set in the file, one face for every row (the subtotals too): the Tibetan
    # face the pages serve for a reader of Tibetan, 宋体 for Chinese.
    ws = book.sheet(str(_l("Summary")), widths=SUMMARY_WIDTHS, freeze="A4",
                    print_title_rows="3:3", landscape=True, fit_width=True, a4=True,
                    font=documents.TIBETAN_FONT if lang == "bo" else SHEET_FONT)
    line = spreadsheets.LINE_POINTS[lang]
    title = summary_title(campaign, as_of, reporting)
    ws.append([ws.cell(title, bold=True, size=14, align="center", wrap=True)]
              + [None] * (width - 1),
              height=line * 1.4 * spreadsheets.lines_needed(title, sum(SUMMARY_WIDTHS) / 1.3))
    ws.merge(1, 1, 1, width)
    ws.append([ws.cell(as_of_line(as_of), align="right")] + [None] * (width - 1), height=line)
    ws.merge(2, 1, 2, width)
    headings = sheets.headings(SUMMARY_COLUMNS)
    header_height = line * max(spreadsheets.lines_needed(h, w)
                               for h, w in zip(headings, SUMMARY_WIDTHS, strict=True))
    ws.append([ws.cell(h, bold=True, boxed=True, align="center", valign="center", wrap=True)
               for h in headings], height=header_height)
    # Units are kept whole on a page where they fit one: the rows' heights are reckoned from
    # their text, and a page break goes before a unit that would run over the page's foot.
    page = SummaryPages(capacity=SUMMARY_PAGE_POINTS - header_height,
                        used=float(sum(ws.ws.row_dimensions[r].height or line
                                       for r in (1, 2))))

    def counts(r: dict[str, Any], strong: bool) -> list[Any]:
        return ([ws.cell(r[f], bold=strong, boxed=True) for f in _COUNTS]
                + [ws.cell(r["completion_rate"], bold=strong, boxed=True, number_format="0.0%")])

    subtotal, total = str(_l("Subtotal")), str(_l("Total"))
    for unit in units:
        first = ws.rows + 1
        heights = [line * spreadsheets.lines_needed(r["category_name"], SUMMARY_WIDTHS[2])
                   for r in unit.lines] + [line]
        # The unit's name, merged down its rows, needs as many lines as it takes too.
        short = line * spreadsheets.lines_needed(unit.name, SUMMARY_WIDTHS[1]) - sum(heights)
        if short > 0:
            heights[-1] += short
        if page.breaks_before(sum(heights)) and ws.rows > 3:
            ws.page_break_after(ws.rows)
        for n, r in enumerate(unit.lines):
            lead = [unit.number, unit.name] if n == 0 else [None, None]
            ws.append([ws.cell(lead[0], boxed=True, align="center", valign="center"),
                       ws.cell(lead[1], boxed=True, valign="center", wrap=True),
                       ws.cell(r["category_name"], boxed=True, wrap=True), *counts(r, False)],
                      height=heights[n])
        lead = [unit.number, unit.name] if not unit.lines else [None, None]
        ws.append([ws.cell(lead[0], boxed=True, align="center", valign="center"),
                   ws.cell(lead[1], boxed=True, valign="center", wrap=True),
                   ws.cell(subtotal, bold=True, boxed=True), *counts(unit.subtotal, True)],
                  height=heights[-1])
        ws.merge(first, 1, ws.rows, 1)
        ws.merge(first, 2, ws.rows, 2)
    ws.append([ws.cell(total, bold=True, boxed=True, align="center"),
               ws.cell(None, boxed=True), ws.cell(None, boxed=True),
               *counts(_grand_total(units), True)])
    ws.merge(ws.rows, 1, ws.rows, 3)

    # Signature lines, as a submitted table carries them: 填报单位：… 填表人：… 审核人：… 日期：…
    blank = "________"
    ws.append([])
    ws.append([ws.cell(str(_l("Reporting unit: %(unit)s",
                              unit=reporting.local_name if reporting else blank))),
               None, None,
               ws.cell(str(_l("Prepared by: %(name)s", name=blank))), None,
               ws.cell(str(_l("Checked by: %(name)s", name=blank))), None,
               ws.cell(str(_l("Date: %(date)s", date=blank))), None])
    row = ws.rows
    for first, last in ((1, 3), (4, 5), (6, 7), (8, 9)):
        ws.merge(row, first, row, last)
    # The latest history anchor, so the printed table carries a copy outside the database
    # (check it with ``flask --app tracker verify-history``; docs/supervisors.md).
    footer = anchor_footer(as_of)
    ws.append([])
    ws.append([ws.cell(footer, size=8)])
    ws.footer(centre=footer, right=str(_l("Page &P of &N")), size=8)
    return book.save()


#: The face of a Chinese summary table (every row, the subtotals too).
SHEET_FONT = "宋体"
#: Points of rows a printed page of the summary holds under its repeated header: A4
#: landscape (595 pt) less the margins and the footer, with some room to spare for a
#: program whose faces run taller than the reckoning.
SUMMARY_PAGE_POINTS = 440.0


@dataclass
class SummaryPages:
    """Reckons where the printed summary's pages end, to keep each unit on one page."""

    capacity: float
    used: float = 0.0

    def breaks_before(self, height: float) -> bool:
        """Whether a unit ``height`` points tall should start a new page (it would run over
        this one's foot, and fits a page of its own); counts it on its page either way."""
        if self.used + height > self.capacity and height <= self.capacity:
            self.used = height
            return True
        self.used = (self.used + height) % self.capacity if height > self.capacity \
            else self.used + height
        return False


def anchor_footer(as_of: date | None = None) -> str:
    """The line naming the history anchor of ``as_of`` (the latest recorded by the end of
    that day; today's file: the latest), or saying there is none, in the reader's language."""
    day = as_of if as_of is not None and as_of < today() else None
    anchor = history.latest_anchor(day)
    if anchor is None:
        if day is None:
            return str(_l("History anchor: none recorded yet"))
        return str(_l("History anchor: none recorded by %(date)s", date=format_date(day)))
    return str(_l("History anchor: %(date)s %(digest)s (%(count)s issues)",
                  date=anchor.anchored_on.isoformat(), digest=f"sha256:{anchor.digest}",
                  count=anchor.issue_count))


def overdue_title(as_of: date) -> str:
    """The title line of the overdue list: 逾期未整改问题清单（统计截至 …）."""
    return str(_l("Overdue findings not rectified (%(as_of)s)", as_of=as_of_line(as_of)))


def _overdue_lines(user: User, as_of: date, filters: dict[str, Any]) -> Iterator[list[Any]]:
    rows = iter_overdue(user, as_of, **filters)  # checks now, rows later
    return ([r["id"], r["title"], sheets.status_label(r["status"]), r["org_path"],
             r["owner_name"], r["due_on"], r["days_overdue"]] for r in rows)


def overdue_csv(user: User, as_of: date | None = None, **filters: Any) -> IO[bytes]:
    """The whole overdue list as CSV (UTF-8 with BOM), headings in the reader's language."""
    as_of = as_of or today()
    lines = _overdue_lines(user, as_of, filters)

    def all_lines() -> Iterator[list[Any]]:
        yield sheets.headings(OVERDUE_COLUMNS)
        for line in lines:
            yield [*line[:5], line[5].isoformat(), line[6]]

    return spreadsheets.csv_file(all_lines())


def overdue_xlsx(user: User, as_of: date | None = None, **filters: Any) -> IO[bytes]:
    """The whole overdue list as a spreadsheet (write-only: bounded memory)."""
    as_of = as_of or today()
    lines = _overdue_lines(user, as_of, filters)
    book = spreadsheets.Workbook()
    ws = book.sheet(str(_l("Overdue list")), widths=(10, 60, 12, 50, 12, 12, 10), freeze="A3",
                    print_title_rows="2:2", landscape=True, fit_width=True)
    ws.append([ws.cell(overdue_title(as_of), bold=True, size=14)])
    ws.append([ws.cell(h, bold=True, boxed=True) for h in sheets.headings(OVERDUE_COLUMNS)])
    for line in lines:
        ws.append([*line[:5], ws.cell(line[5], number_format="yyyy-mm-dd"), line[6]])
    return book.save()
