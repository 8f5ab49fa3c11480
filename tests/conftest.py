"""Test fixtures: the app on SQLite or PostgreSQL, each test rolled back, logins.

The database is chosen by ``TRACKER_TEST_DB`` (``sqlite``, the default, or ``postgresql``).
PostgreSQL is reached at ``TRACKER_TEST_PG_URL`` (default the local trust-auth server); each
run gets its own schema, dropped afterwards.  Where PostgreSQL is asked for but cannot be
reached, the run skips with a clear message on a laptop and fails in CI (``CI`` set).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import create_engine, func, select, text

from tests.factories import Factories
from tests.smtp import Mailbox, smtp_server
from tests.support.config import changed_config
from tests.support.pages import page_client

PG_URL = os.environ.get(
    "TRACKER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = bool(os.environ.get("CI"))


def _need(message: str) -> None:
    """Fail in CI, skip elsewhere, when something the suite needs is missing."""
    if IN_CI:
        pytest.fail(message + " (CI must run this; it never skips)", pytrace=False)
    pytest.skip(message)


def _database_url(tmp: str) -> Iterator[str]:
    kind = os.environ.get("TRACKER_TEST_DB", "sqlite")
    if kind == "sqlite":
        yield "sqlite:///" + os.path.join(tmp, "test.sqlite3")
        return
    if kind != "postgresql":
        raise RuntimeError(f"TRACKER_TEST_DB must be sqlite or postgresql, not {kind!r}")
    schema = f"tracker_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001
        admin.dispose()
        _need(f"PostgreSQL is not reachable at {PG_URL}: {exc.__class__.__name__}")
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def _tmp() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="tracker-test-") as tmp:
        yield tmp


@pytest.fixture(scope="session")
def database_url(_tmp: str) -> Iterator[str]:
    """The URL of this run's own, migrated database."""
    gen = _database_url(_tmp)
    url = next(gen)
    from flask_migrate import upgrade

    from tracker import create_app

    app = create_app(_test_config(url, _tmp))
    with app.app_context():
        upgrade()
        from tracker.extensions import db

        db.engine.dispose()
    yield url
    try:
        next(gen)
    except StopIteration:
        pass


def _test_config(url: str, tmp: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        "TRACKER_PASSWORD_METHOD": "pbkdf2:sha256:1000",
        "TRACKER_EVIDENCE_DIR": os.path.join(tmp, "evidence"),
        "TRACKER_BASE_URL": "http://tracker.test",
        "TRACKER_SMTP_HOST": "",
        "TRACKER_MAIL_FROM": "tracker@example.gov.cn",
        "TRACKER_MAX_UPLOAD_MB": 2,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024 + 64 * 1024,
    }


@pytest.fixture(scope="session")
def app(database_url: str, _tmp: str) -> Iterator[Flask]:
    """The application, configured for tests against this run's database."""
    from tracker import create_app

    application = create_app(_test_config(database_url, _tmp))
    yield application


#: Fixtures whose use means the test's rows must be committed for real: another thread serves
#: them (a live server, a browser's requests) or another process or connection reads them.
COMMITTING_FIXTURES = frozenset({"live_server", "browser", "workers"})


def _commits_for_real(request: pytest.FixtureRequest) -> bool:
    """Whether the test needs real commits (the ``commits`` marker or a serving fixture)."""
    return (request.node.get_closest_marker("commits") is not None
            or not COMMITTING_FIXTURES.isdisjoint(request.fixturenames))


@pytest.fixture(autouse=True)
def _database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test that uses the database runs in a transaction rolled back at its end.

    A test whose commits must reach another thread, process or connection (see
    ``_commits_for_real``) commits for real, and every table is emptied after it instead.
    """
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    if _commits_for_real(request):
        yield
        _empty_database(app)
    else:
        with _rolled_back(app):
            yield
    _remove_evidence_files(app)


class _OneConnectionSession(FlaskSession):
    """Flask-SQLAlchemy's session, held to the test's connection (its ``bind``).

    Flask-SQLAlchemy picks the engine by each table's bind key before it looks at the
    session's own bind; a test's session must use the test's connection for every table.
    """

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None,
                 **kwargs: Any) -> Any:  # noqa: D102
        return bind if bind is not None else self.bind


@contextmanager
def _rolled_back(app: Flask) -> Iterator[None]:
    """Bind every session of the app to one connection inside an outer transaction.

    ``join_transaction_mode="create_savepoint"`` makes each session's commit the release of
    a SAVEPOINT (and its rollback a rollback to it), so the code's own commits and rollbacks
    behave as in production while the outer transaction, rolled back at the end, undoes all.
    On SQLite this works because the engine leaves pysqlite's transaction handling off and
    emits BEGIN itself (tracker.database), so SAVEPOINT and transactional DDL behave.
    """
    from tracker.extensions import db

    with app.app_context():
        db.session.remove()
        connection = db.engine.connect()
    outer = connection.begin()
    factory = db.session.session_factory
    saved, saved_class = dict(factory.kw), factory.class_
    factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    factory.class_ = _OneConnectionSession
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
        factory.class_ = saved_class
        factory.kw.clear()
        factory.kw.update(saved)
        if outer.is_active:
            outer.rollback()
        connection.close()


def _empty_database(app: Flask) -> None:
    """Empty every table (after a test whose commits were real)."""
    from tracker.extensions import db

    with app.app_context():
        db.session.remove()
        # The calendar keeps what the migration seeded from chinese-calendar (as a fresh
        # installation has it); what a test entered or removed is put back (_reset_calendar).
        # The summary's kept counts keep the day they stand on (set by the migration): empty
        # counts on that day are right for an empty ledger.
        tables = [t for t in reversed(db.metadata.sorted_tables)
                  if t.name not in ("calendar_days", "issue_counts_day")]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                # The events are append-only by trigger: lifted for the sweep, then restored.
                from tracker.issues import history

                history.drop_append_only(conn)
                for table in tables:
                    conn.execute(table.delete())
                history.create_append_only(conn)
            _reset_calendar(conn)


def _remove_evidence_files(app: Flask) -> None:
    """Remove the evidence files a test stored (files are outside any transaction)."""
    evidence_dir = app.config["TRACKER_EVIDENCE_DIR"]
    if os.path.isdir(evidence_dir):
        for name in os.listdir(evidence_dir):
            path = os.path.join(evidence_dir, name)
            if os.path.isfile(path):
                os.remove(path)


def _reset_calendar(conn: Any) -> None:
    """Put the calendar back as the migration seeded it, when a test changed it (two cheap
    statements otherwise)."""
    from tracker.issues.calendar.models import CalendarDay
    from tracker.issues.calendar.seed import package_days

    table = CalendarDay.__table__
    conn.execute(table.delete().where(table.c.source != "package"))
    seeded = package_days()
    if conn.execute(select(func.count()).select_from(table)).scalar() == len(seeded):
        return
    conn.execute(table.delete())
    now = datetime.now(UTC).replace(tzinfo=None)
    conn.execute(table.insert(), [{**row, "updated_at": now} for row in seeded])


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """An application context, for service-level tests."""
    with app.app_context():
        yield
        from tracker.extensions import db

        db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """The test client: a page session (fresh CSRF and language caches per request, see
    tests.support.pages.PageClient) that the API client (``api``) shares."""
    return page_client(app)


@pytest.fixture
def pages(app: Flask) -> FlaskClient:
    """A second page session, with cookies of its own (another browser beside ``client``)."""
    return page_client(app)


@pytest.fixture
def config(app: Flask) -> Iterator[Callable[..., None]]:
    """Set ``app.config`` values for one test: ``config(KEY=value)``; restored afterwards."""
    with changed_config(app) as change:
        yield change


@pytest.fixture
def smtp(config: Callable[..., None]) -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd), and the app pointed at it for the test."""
    with smtp_server() as box:
        config(TRACKER_SMTP_HOST=box.host, TRACKER_SMTP_PORT=box.port)
        yield box


@pytest.fixture
def runner(app: Flask) -> Any:
    """A CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def make(app: Flask, ctx: None) -> Factories:
    """Callable factories with realistic defaults (see tests/factories.py)."""
    return Factories()


@pytest.fixture
def world(make: Factories) -> Any:
    """A prefecture with two counties, their centres and users of every role."""
    return make.world()


class ApiClient:
    """A JSON client that logs in through the token endpoint as any user."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._tokens: dict[str, str] = {}

    def token(self, username: str, password: str = "secret-pass-1") -> str:
        if username not in self._tokens:
            resp = self.client.post(
                "/api/v1/auth/tokens", json={"username": username, "password": password}
            )
            assert resp.status_code == 201, resp.get_json()
            self._tokens[username] = resp.get_json()["token"]
        return self._tokens[username]

    def call(self, method: str, path: str, user: Any = None, **kw: Any) -> Any:
        headers = dict(kw.pop("headers", {}) or {})
        if user is not None:
            name = user if isinstance(user, str) else user.username
            headers["Authorization"] = f"Bearer {self.token(name)}"
        return self.client.open(path, method=method, headers=headers, **kw)

    def get(self, path: str, user: Any = None, **kw: Any) -> Any:
        return self.call("GET", path, user, **kw)

    def post(self, path: str, user: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, user, **kw)

    def patch(self, path: str, user: Any = None, **kw: Any) -> Any:
        return self.call("PATCH", path, user, **kw)

    def delete(self, path: str, user: Any = None, **kw: Any) -> Any:
        return self.call("DELETE", path, user, **kw)


@pytest.fixture
def api(client: FlaskClient) -> ApiClient:
    """JSON API client: ``api.get('/api/v1/issues', user=world.officer)``."""
    return ApiClient(client)
