"""Pages of a list: the one offset, the one metadata shape (``X-Pagination``, the pager), and
``paginate`` for a plain statement.  A base module, not the HTTP layer, so that services that
page in SQL themselves (the ledger, the reports, the public pages) use the same shape."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, func, select

from tracker.extensions import db


def page_offset(page: int, page_size: int) -> int:
    """The rows before page ``page`` (pages count from 1)."""
    return (page - 1) * page_size


def page_meta(total: int, page: int, page_size: int, *,
              limit: int | None = None) -> dict[str, int]:
    """The pagination metadata of a list of ``total`` items (``X-Pagination``, the pager).

    ``limit``: the list was counted up to ``limit`` items and no further (``count_upto``);
    then ``total_exact`` says whether ``total`` is every item (false: ``total`` is the limit
    and there are more; a bool, so JSON's true or false)."""
    exact = limit is None or total <= limit
    shown = total if limit is None or exact else limit
    meta: dict[str, int] = {
        "total": shown,
        "total_pages": max(1, math.ceil(shown / page_size)),
        "page": page,
        "page_size": page_size,
    }
    if limit is not None:
        meta["total_exact"] = exact
    return meta


def count_upto(stmt: Select[Any], limit: int | None) -> Select[Any]:
    """A SELECT of the number of rows ``stmt`` selects, counting at most ``limit`` + 1 of
    them (all when ``limit`` is None): ``page_meta`` tells "more than ``limit``" from it."""
    rows = stmt.order_by(None)
    if limit is not None:
        rows = rows.limit(limit + 1)
    return select(func.count()).select_from(rows.subquery())


def paginate(
    stmt: Select[Any], page: int, page_size: int,
    *, load: Callable[[Select[Any]], Select[Any]] | None = None, columns: bool = False,
    count_limit: int | None = None,
) -> tuple[list[Any], dict[str, int]]:
    """Run one page of ``stmt`` and count the whole; returns rows and pagination metadata.

    Two statements whatever the page size: the count and the page.  ``load``, when given,
    turns the page's statement (limited and offset) into the one that reads its rows: the
    ledger picks the page's ids from an index first and reads only those rows
    (``issues.service.page_loader``).  ``columns`` returns rows of columns, not entities.
    ``count_limit``: count no further than this (``count_upto``; a search's pages).
    """
    total = db.session.scalar(count_upto(stmt, count_limit))
    page_stmt = stmt.limit(page_size).offset(page_offset(page, page_size))
    if load is not None:
        page_stmt = load(page_stmt)
    result = db.session.execute(page_stmt) if columns else db.session.scalars(page_stmt)
    return list(result), page_meta(int(total or 0), page, page_size, limit=count_limit)
