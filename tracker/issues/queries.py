"""Reading the ledger: filters, sort orders and pages of the issues a user may read."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Integer,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.sql.elements import True_

from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import search
from tracker.issues.models import (
    Campaign,
    Issue,
    Status,
)
from tracker.issues.permissions import get_issue, may_close_clause, readable_clause
from tracker.issues.reports.counts import IssueCount
from tracker.owners import service as owners
from tracker.owners.models import Org, OrgKind, Role, User
from tracker.paging import count_upto, page_meta, page_offset

SORTABLE = ("due_on", "id", "updated_at", "created_at", "status", "starts_on", "title")
TEXT_FIELDS = ("title", "description", "cause", "measures")


@dataclass
class Scope:
    """Which part of the ledger a list reads before its other filters."""

    #: The org whose subtree is read: the ``org_id`` asked for, else a registrar's or
    #: supervisor's home org (their scope is that subtree: the same rows); None for the rest.
    within: int | None
    #: What the reader may read (``readable_clause``).
    readable: ColumnElement[bool]
    #: Whether ``within`` is a county: its subtree is then a range of ``issues.county_id``.
    county: bool = False

    @property
    def subtree(self) -> ColumnElement[bool] | None:
        """The issues of ``within``'s subtree."""
        return None if self.within is None else subtree_of(self.within, self.county)

    @property
    def whole_subtree(self) -> bool:
        """Whether the list is ``within``'s whole subtree (the scope adds nothing to it)."""
        return self.within is not None and isinstance(self.readable, True_)


def subtree_of(org: Any, county: bool) -> ColumnElement[bool]:
    """The issues of ``org``'s subtree (an id or a parameter): for a county its range of
    ``county_id`` (counties.py), read in the ledger's order from (county_id, due_on, id);
    else the issues of its orgs."""
    if county:
        return Issue.county_id == org
    return Issue.org_id.in_(owners.subtree_ids(org))


def _kept_total_of(org: Any) -> ScalarSelect[Any]:
    """The number of issues in ``org``'s subtree (an id or a parameter), from the kept
    counts (``issue_counts``: kept in the transaction of every change)."""
    return (select(func.coalesce(func.sum(IssueCount.total), 0))
            .where(IssueCount.org_id == org).scalar_subquery())


def scope_of(user: User, org_id: int | None) -> Scope:
    """The ``Scope`` of ``user``'s list of ``org_id``'s subtree (None: all they may read).
    The reader's own home org comes with them (its kind needs no statement)."""
    within = org_id
    if within is None and user.role in (Role.supervisor, Role.registrar):
        within = user.org_id
    readable = readable_clause(user, within=within)
    if within is None:
        return Scope(None, readable)
    home = user.org if user.org_id == within else None
    kind = home.kind if home is not None else db.session.scalar(
        select(Org.kind).where(Org.id == within))
    return Scope(within, readable, county=kind == OrgKind.county)


#: The filters that narrow a list below its scope (each as ``filter_issues`` tests it).
NARROWING = ("id", "status", "category_id", "campaign_id", "owner_id", "owner", "overdue",
             "light", "urged", "due_before", "due_after", "awaiting", "q")


def counts_answer(scope: Scope, filters: dict[str, Any]) -> bool:
    """Whether the kept counts give the list's total: the list is a whole subtree and
    nothing else narrows it."""
    return scope.whole_subtree and all(filters.get(name) in (None, "", [], ())
                                       for name in NARROWING)


def filter_issues(user: User, filters: dict[str, Any], as_of: date,
                  scope: Scope | None = None) -> Select[Any]:
    """The ledger as ``user`` may read it, filtered and sorted: one statement for every list.

    Filters: id (a list of issue numbers), status (one or a list), org_id (whole subtree),
    category_id, campaign_id, owner_id, owner (username or part of a display name), overdue
    (True/False on ``as_of``), due_before, due_after (inclusive), awaiting ("verification":
    submitted issues ``user`` may close, four eyes included), q (words that must all occur
    in title, description, cause, measures or the owner's name, or be the issue's number
    such as 17 or #17: ``search.matches``) and sort (a
    column of SORTABLE, "-" for descending; default due_on).  Pages, the API and
    the exports all call this, so a filter means the same everywhere.
    """
    scope = scope or scope_of(user, filters.get("org_id"))
    stmt = select(Issue).where(scope.readable)
    if scope.subtree is not None:
        stmt = stmt.where(scope.subtree)
    if filters.get("id"):
        stmt = stmt.where(Issue.id.in_(filters["id"]))
    status = filters.get("status")
    if status:
        stmt = stmt.where(Issue.status.in_([status] if isinstance(status, str) else status))
    for name in ("category_id", "campaign_id", "owner_id"):
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(Issue, name) == filters[name])
    if filters.get("owner"):
        stmt = stmt.where(Issue.owner_id.in_(_users_named(filters["owner"], exact=True)))
    if filters.get("overdue") is not None:
        # An IN list rather than "<> closed", which no index answers (bench/README.md).
        late = Issue.is_overdue_on(as_of)
        stmt = stmt.where(late if filters["overdue"] else ~late)
    if filters.get("light"):
        stmt = stmt.where(Issue.lit_on(filters["light"], as_of))
    if filters.get("urged") is not None:
        stmt = stmt.where(Issue.urge_count > 0 if filters["urged"] else Issue.urge_count == 0)
    if filters.get("due_before") is not None:
        stmt = stmt.where(Issue.due_on <= filters["due_before"])
    if filters.get("due_after") is not None:
        stmt = stmt.where(Issue.due_on >= filters["due_after"])
    if filters.get("awaiting") == "verification":
        stmt = stmt.where(Issue.status == Status.submitted, may_close_clause(user))
    if filters.get("q"):
        stmt = stmt.where(search.matches(filters["q"], _search_scope(user, filters)))
    return stmt.order_by(*sort_order(filters.get("sort") or "due_on"))


def _search_scope(user: User, filters: dict[str, Any]) -> int | None:
    """The org whose subtree a search keeps to anyway, asked of the search index with the
    words: the ``org_id`` filter, else a registrar's or supervisor's own org (their scope,
    ``readable_clause``); none for an admin's or an officer's whole reading."""
    if filters.get("org_id") is not None:
        return int(filters["org_id"])
    if user.role in (Role.supervisor, Role.registrar) and user.org_id is not None:
        return user.org_id
    return None


def _users_named(text: str, *, exact: bool = False) -> Select[Any]:
    """The ids of users whose display name holds ``text`` (or whose username is it, or holds
    it unless ``exact``)."""
    username = User.username == text if exact else User.username.icontains(text,
                                                                           autoescape=True)
    return select(User.id).where(or_(username,
                                     User.display_name.icontains(text, autoescape=True)))


def sort_order(sort: str) -> list[Any]:
    """The ORDER BY of the ledger for ``sort`` (a column of SORTABLE, "-" for descending)."""
    if sort.lstrip("-") not in SORTABLE:
        raise Invalid(_l("Unknown sort."), errors={"sort": [
            _l("One of %(choices)s.", choices=", ".join(SORTABLE))]})
    column = getattr(Issue, sort.lstrip("-"))
    if sort.startswith("-"):
        return [column.desc(), Issue.id.desc()]
    return [column.asc(), Issue.id.asc()]


#: Every column of an issue, as the API's list reads them (rows, not ORM objects), and its
#: campaign's day basis (a primary-key lookup per row: whether it counts working days).
ISSUE_COLUMNS = (
    *Issue.__table__.columns,
    select(Campaign.day_basis).where(Campaign.id == Issue.campaign_id).correlate(Issue)
    .scalar_subquery().label("day_basis"),
)


def issue_rows(stmt: Select[Any], sort: str, page: int, page_size: int,
               total: ScalarSelect[Any] | None = None, *,
               count_limit: int | None = None) -> tuple[list[Any], dict[str, int]]:
    """One page of the ledger ``stmt`` selects, as rows of every issue column, with its
    pagination metadata: one statement for the page and its total.

    The page's ids come first from the same filters and order (what an index answers), the
    count rides along as a scalar subquery the database evaluates once, and rows are plain
    tuples rather than ORM objects (a third of the list request's cost, bench/README.md).
    ``total``: the count when it is known otherwise; ``count_limit``: count no further than
    this (a search: ``search.count_limit``).
    """
    ids = stmt.with_only_columns(Issue.id).limit(page_size).offset(page_offset(page, page_size))
    if total is None:
        total = count_upto(stmt.with_only_columns(Issue.id), count_limit).scalar_subquery()
    rows = db.session.execute(
        select(*ISSUE_COLUMNS, total.label("total_count"))
        .where(Issue.id.in_(ids.scalar_subquery())).order_by(*sort_order(sort))
    ).all()
    count = rows[0].total_count if rows else int(db.session.scalar(select(total)) or 0)
    return list(rows), page_meta(count, page, page_size, limit=count_limit)


def issue_page(user: User, filters: dict[str, Any], as_of: date,
               ) -> tuple[list[Any], dict[str, int]]:
    """One page of the ledger ``filter_issues`` selects (``filters`` holds sort, page and
    page_size too), with its pagination metadata.

    A whole subtree and nothing else (a supervisor's own county, the hot page) is one fixed
    statement (``_subtree_page``: built once, prepared by psycopg after a few uses) with
    its total from the kept counts; any other list is built from its filters, as before.
    """
    sort, page, page_size = filters["sort"], filters["page"], filters["page_size"]
    scope = scope_of(user, filters.get("org_id"))
    if not counts_answer(scope, filters):
        return issue_rows(filter_issues(user, filters, as_of, scope), sort, page, page_size,
                          count_limit=search.count_limit(filters.get("q")))
    rows = db.session.execute(_subtree_page(sort, scope.county), {
        "org": scope.within, "limit": page_size, "offset": page_offset(page, page_size)}).all()
    count = rows[0].total_count if rows else int(
        db.session.scalar(select(_kept_total_of(scope.within))) or 0)
    return list(rows), page_meta(count, page, page_size)


@functools.cache
def _subtree_page(sort: str, county: bool) -> Select[Any]:
    """The page statement of ``issue_rows`` for a whole subtree (the ``org`` parameter; a
    county's range when ``county``), its total the kept one: ``limit`` and ``offset`` are
    parameters too, so the statement is the same text every time."""
    org = bindparam("org", type_=Integer)
    ids = (select(Issue.id).where(subtree_of(org, county)).order_by(*sort_order(sort))
           .limit(bindparam("limit", type_=Integer))
           .offset(bindparam("offset", type_=Integer)))
    total = _kept_total_of(org)
    return (select(*ISSUE_COLUMNS, total.label("total_count"))
            .where(Issue.id.in_(ids.scalar_subquery())).order_by(*sort_order(sort)))


def issue_rows_after(user: User, stmt: Select[Any], sort: str, after: int,
                     page_size: int) -> list[Any]:
    """The ``page_size`` issues that follow issue ``after`` in the ledger's order (keyset
    pages, for clients that walk the whole ledger): no offset to skip and no total to count,
    so the thousandth page costs what the first does.  ``after`` must be readable (404)."""
    key_name = sort.lstrip("-")
    anchor = get_issue(user, after)
    key, column = getattr(anchor, key_name), getattr(Issue, key_name)
    # A row comparison, (key, id) > (anchor's key, anchor's id), and the key's own bound
    # beside it: both planners then start the sort key's index at the anchor (an OR of the
    # two made PostgreSQL walk the due-date index from the country's first deadline).
    row, mark = tuple_(column, Issue.id), tuple_(literal(key), literal(anchor.id))
    if sort.startswith("-"):
        later = and_(column <= key, row < mark)
    else:
        later = and_(column >= key, row > mark)
    return list(db.session.execute(
        stmt.with_only_columns(*ISSUE_COLUMNS).where(later).limit(page_size)).all())


def page_loader(sort: str, *options: Any) -> Callable[[Select[Any]], Select[Any]]:
    """For ``webapi.paginate``: read a ledger page by its ids first.

    The page's ids come from the same filters and order (an index holding the filter
    columns, the sort key and the id answers that without reading the table), then only
    those rows are read, with ``options`` (eager loads).  On a ledger of a million issues a
    county's page otherwise reads every row of the county to sort it (bench/README.md).
    """
    order = sort_order(sort)

    def load(page: Select[Any]) -> Select[Any]:
        ids = page.with_only_columns(Issue.id).scalar_subquery()
        # The outer SELECT needs none of the filters again (planning them twice cost
        # PostgreSQL a millisecond): the ids, the order and the loader options.
        return select(Issue).where(Issue.id.in_(ids)).order_by(*order).options(*options)

    return load
