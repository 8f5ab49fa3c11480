"""What a reminder pass sends to the database."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import event

from tracker.extensions import db
from tracker.notify import service


def statements_of_pass(as_of: date) -> list[str]:
    """The first word (SELECT, INSERT, …) of each statement a reminder pass as of ``as_of``
    sends."""
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert service.run_pass(as_of).ok
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return statements
