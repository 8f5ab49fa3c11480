"""The SQL statements a block of code sends (the scale guards count and explain them)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from tracker.extensions import db


@contextmanager
def statements() -> Iterator[list[tuple[str, Any]]]:
    """Capture the SQL statements (and their parameters) run inside the block."""
    seen: list[tuple[str, Any]] = []

    def listen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA|SELECT 1\b)",
                        statement, re.I):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
