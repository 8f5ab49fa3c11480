"""Database engine settings (SQLite in WAL mode with a busy timeout, BEGIN IMMEDIATE for
writes) and the mixin of models that carry a Tibetan name."""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any

from flask import Flask
from sqlalchemy import event, func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

from tracker.extensions import db
from tracker.timeutil import reader_language

#: Milliseconds a SQLite writer waits for another worker's lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL lets readers run beside one writer; the busy timeout queues writers."""
    # pysqlite's own transaction handling is turned off so that BEGIN is ours.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    try:
        cursor.execute("PRAGMA journal_mode = WAL")
    except Exception:  # noqa: BLE001 - an in-memory database has no WAL; that is fine
        pass
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


#: True while serving a request that only reads (GET, HEAD, OPTIONS).
read_only: ContextVar[bool] = ContextVar("tracker_read_only", default=False)


#: Seconds a pooled PostgreSQL connection may sit idle before it is pinged on checkout.
PING_AFTER_IDLE_SECONDS = 10.0


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection on checkout only when it has sat idle for ``idle_seconds``.

    A busy worker reuses its connections within milliseconds, and a ping per checkout was a
    round trip on every request (a sixth of the list page on PostgreSQL, bench/README.md).
    A connection left idle, the one a restarted server or a dropped link leaves stale, is
    pinged and replaced before the request sees it; one that died within the last seconds
    fails its request once (503, the pool is emptied), and the next gets a fresh connection.
    """
    if getattr(engine.pool, "_tracker_pings_when_idle", False):
        return  # configured already (one engine, several apps in one process)
    engine.pool._tracker_pings_when_idle = True  # type: ignore[attr-defined]

    def checkin(dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_connection.rollback()
        except Exception as exc:  # noqa: BLE001 - any failure means: not this connection
            # The pool discards this connection and checks out a fresh one.
            raise DisconnectionError(str(exc)) from exc

    event.listen(engine.pool, "checkin", checkin)
    event.listen(engine.pool, "checkout", checkout)


def configure_engine(engine: Engine, ping_after_idle: float = PING_AFTER_IDLE_SECONDS) -> None:
    """Install the per-connection settings: SQLite's pragmas and locks, PostgreSQL's ping of
    connections left idle."""
    if engine.dialect.name != "sqlite":
        _ping_when_idle(engine, ping_after_idle)
        return
    if event.contains(engine, "connect", _sqlite_pragmas):
        return  # configured already (one engine, several apps in one process)
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _begin)


def _begin(conn: Any) -> None:
    """A transaction that may write takes the write lock at once (BEGIN IMMEDIATE).

    A deferred one that reads first and writes later can fail at once with "database is
    locked" when another worker committed in between, which the busy timeout does not cover.
    Reads stay deferred and run beside the writer (WAL).
    """
    conn.exec_driver_sql("BEGIN" if read_only.get() else "BEGIN IMMEDIATE")


def init_app(app: Flask) -> None:
    """Configure the engine once the app has one; reads take no write lock."""
    with app.app_context():
        configure_engine(db.engine, app.config.get("TRACKER_DB_PING_IDLE_SECONDS",
                                                   PING_AFTER_IDLE_SECONDS))

    @app.before_request
    def _mark_read_only() -> None:
        from flask import request

        read_only.set(request.method in ("GET", "HEAD", "OPTIONS"))
        if (request.method == "GET" and request.endpoint in AUTOCOMMIT_READS
                and request.args.get("format") in (None, "", "json")):
            _read_outside_a_transaction()


#: Endpoints whose GET (a JSON page) only reads, each statement whole by itself (the page
#: and its total are one statement): on PostgreSQL they run without BEGIN and ROLLBACK, two
#: round trips of the four a list page made (bench/README.md).  Domains add theirs.
AUTOCOMMIT_READS: set[str] = set()


def _read_outside_a_transaction() -> None:
    """Let the request's session read in autocommit on PostgreSQL (each statement its own
    snapshot; nothing is written).  Not for a session bound to an outer connection (tests
    that roll back), whose transaction must stay."""
    from sqlalchemy.engine import Engine as _Engine

    if db.session().in_transaction():
        return  # a session kept from before this request (an app context that outlives it)
    bind = db.session.get_bind()
    if isinstance(bind, _Engine) and bind.dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


class TibetanNamed:
    """A model with ``name`` and ``name_bo``: the name the reader reads."""

    name: Any
    name_bo: Any

    @property
    def local_name(self) -> str:
        """The Tibetan name to a reader of Tibetan (where there is one), else ``name``."""
        if self.name_bo and reader_language() == "bo":
            return str(self.name_bo)
        return str(self.name)

    @classmethod
    def local_name_column(cls, language: str | None = None) -> Any:
        """``local_name`` as a column labelled ``name``, for the reader of the answer being
        made, or of ``language`` ("bo", "zh", "en": a mail's recipient, outside any request)
        (to select; filter on ``name`` and ``name_bo``)."""
        if (language or reader_language()) == "bo":
            return func.coalesce(cls.name_bo, cls.name).label("name")
        return cls.name.label("name")
