"""Ids for a batch of new rows, so that the ORM's flush inserts them in one statement.

SQLAlchemy 2 sends a batch of ORM inserts as one INSERT … RETURNING ("insertmanyvalues") when
it can match the returned ids to the rows.  PostgreSQL lets it; SQLite gives no such order,
so without a sentinel column the flush fell back to one INSERT per row (a 10,000-row import
sent 30,000 statements).  When the rows already carry their ids, the flush needs nothing back
and sends one executemany.  On SQLite every writing transaction holds the write lock from its
start (BEGIN IMMEDIATE, ``tracker.database``), so the ids after the table's largest are ours
until we commit; they are the ids SQLite itself would have given (no AUTOINCREMENT table).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, inspect, select

from tracker.extensions import db


def assign_ids(rows: Sequence[Any]) -> None:
    """Give new ORM rows of one mapped class their integer ids on SQLite (before they are
    added to the session); elsewhere, and for a single row, leave them to the database."""
    if len(rows) < 2 or db.session.get_bind().dialect.name != "sqlite":
        return
    mapper = inspect(type(rows[0]))
    (key,) = mapper.primary_key
    attr = mapper.get_property_by_column(key).key
    # Rows of the table still pending in the session must be in it before its largest id
    # is read.
    db.session.flush()
    largest = db.session.scalar(select(func.max(key))) or 0
    for offset, row in enumerate(rows, start=1):
        setattr(row, attr, largest + offset)
