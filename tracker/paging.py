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


def page_meta(total: int, page: int, page_size: int) -> dict[str, int]:
    """The pagination metadata of a list of ``total`` items (``X-Pagination``, the pager)."""
    return {
        "total": total,
        "total_pages": max(1, math.ceil(total / page_size)),
        "page": page,
        "page_size": page_size,
    }


def paginate(
    stmt: Select[Any], page: int, page_size: int,
    *, load: Callable[[Select[Any]], Select[Any]] | None = None, columns: bool = False,
) -> tuple[list[Any], dict[str, int]]:
    """Run one page of ``stmt`` and count the whole; returns rows and pagination metadata.

    Two statements whatever the page size: the count and the page.  ``load``, when given,
    turns the page's statement (limited and offset) into the one that reads its rows: the
    ledger picks the page's ids from an index first and reads only those rows
    (``issues.service.page_loader``).  ``columns`` returns rows of columns, not entities.
    """
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    page_stmt = stmt.limit(page_size).offset(page_offset(page, page_size))
    if load is not None:
        page_stmt = load(page_stmt)
    result = db.session.execute(page_stmt) if columns else db.session.scalars(page_stmt)
    return list(result), page_meta(int(total or 0), page, page_size)
