"""Reading the ledger: filters, sort orders and pages of the issues a user may read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, literal, or_, select, tuple_

from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import search
from tracker.issues.models import (
    Campaign,
    Issue,
    Status,
)
from tracker.issues.permissions import get_issue, may_close_clause, readable_clause
from tracker.owners import service as owners
from tracker.owners.models import Role, User
from tracker.paging import count_upto, page_meta, page_offset

SORTABLE = ("due_on", "id", "updated_at", "created_at", "status", "starts_on", "title")
TEXT_FIELDS = ("title", "description", "cause", "measures")


def filter_issues(user: User, filters: dict[str, Any], as_of: date) -> Select[Any]:
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
    stmt = select(Issue).where(readable_clause(user, within=filters.get("org_id")))
    if filters.get("id"):
        stmt = stmt.where(Issue.id.in_(filters["id"]))
    status = filters.get("status")
    if status:
        stmt = stmt.where(Issue.status.in_([status] if isinstance(status, str) else status))
    if filters.get("org_id") is not None:
        stmt = stmt.where(Issue.org_id.in_(owners.subtree_ids(filters["org_id"])))
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


def issue_rows(stmt: Select[Any], sort: str, page: int, page_size: int, *,
               count_limit: int | None = None) -> tuple[list[Any], dict[str, int]]:
    """One page of the ledger ``stmt`` selects, as rows of every issue column, with its
    pagination metadata: one statement for the page and its total.

    The page's ids come first from the same filters and order (what an index answers), the
    count rides along as a scalar subquery the database evaluates once, and rows are plain
    tuples rather than ORM objects (a third of the list request's cost, bench/README.md).
    ``count_limit``: count no further than this (a search: ``search.count_limit``).
    """
    ids = stmt.with_only_columns(Issue.id).limit(page_size).offset(page_offset(page, page_size))
    total = count_upto(stmt.with_only_columns(Issue.id), count_limit).scalar_subquery()
    rows = db.session.execute(
        select(*ISSUE_COLUMNS, total.label("total_count"))
        .where(Issue.id.in_(ids.scalar_subquery())).order_by(*sort_order(sort))
    ).all()
    count = rows[0].total_count if rows else int(db.session.scalar(select(total)) or 0)
    return list(rows), page_meta(count, page, page_size, limit=count_limit)


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
