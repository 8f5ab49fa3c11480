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

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, inspect, select, text

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


def reserve_ids(connection: Any, table: Any, count: int) -> list[int]:
    """Ids for ``count`` new rows of ``table`` (an integer ``id`` key), in one statement, so
    that the rows, and the rows that name them, go in by one executemany each without asking
    anything back: on PostgreSQL drawn from the column's sequence; on SQLite the ids after
    the table's largest, ours until the transaction that holds the write lock ends (see
    above; a deferred transaction that read them and meets another writer fails to write,
    it never doubles an id).  Ascending."""
    if count <= 0:
        return []
    if connection.dialect.name == "postgresql":
        drawn = connection.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                 "FROM generate_series(1, :count)"),
            {"table": table.name, "count": count}).scalars().all()
        return sorted(int(i) for i in drawn)
    largest = connection.scalar(select(func.max(table.c.id))) or 0
    return list(range(largest + 1, largest + count + 1))


def insert_rows(connection: Any, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in one statement, however
    many: on SQLite one executemany; on PostgreSQL one ``INSERT … SELECT unnest(…)`` with an
    array per column (psycopg's executemany sends one INSERT per row: at 10,000 rows its round
    trips, and a statement trigger run once a row, were most of an import's write)."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), list(rows))
        return
    from sqlalchemy import JSON, Text, bindparam, cast
    from sqlalchemy.dialects.postgresql import ARRAY

    names = list(rows[0])
    columns: list[Any] = []
    for name in names:
        column = table.c[name]
        values = [row[name] for row in rows]
        if isinstance(column.type, JSON):
            texts = [None if v is None else json.dumps(v) for v in values]
            columns.append(cast(func.unnest(bindparam(f"a_{name}", texts, type_=ARRAY(Text))),
                                column.type))
        else:
            columns.append(func.unnest(bindparam(f"a_{name}", values,
                                                 type_=ARRAY(column.type))))
    connection.execute(insert(table).from_select(names, select(*columns)))


def confirm_ids(connection: Any, table: Any, ids: list[int]) -> list[int]:
    """The ids to write rows with that ``reserve_ids`` gave in an earlier transaction (so
    that the rows could be made before the write): on PostgreSQL the same, the sequence gave
    them for good; on SQLite the ids after the table's largest now, under the write lock:
    the same unless rows were added meanwhile (then the caller makes its rows again)."""
    if connection.dialect.name == "postgresql":
        return ids
    return reserve_ids(connection, table, len(ids))


class Row(dict[str, Any]):
    """A row to insert (a dict of its columns) that reads as attributes too, as a mapped
    object does: what the ledger announces of rows written in bulk, so that a listener's
    work over a batch takes them and ORM objects alike."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value
