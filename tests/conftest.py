"""Test fixtures: the app on SQLite or PostgreSQL, a clean database per test, logins.

The database is chosen by ``TRACKER_TEST_DB`` (``sqlite``, the default, or ``postgresql``).
PostgreSQL is reached at ``TRACKER_TEST_PG_URL`` (default the local trust-auth server); each
run gets its own schema, dropped afterwards.  Where PostgreSQL is asked for but cannot be
reached, the run skips with a clear message on a laptop and fails in CI (``CI`` set).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from tests.factories import Factories

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


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every table after each test that used the database."""
    yield
    if "app" not in request.fixturenames:
        return
    app: Flask = request.getfixturevalue("app")
    from tracker.extensions import db

    with app.app_context():
        db.session.remove()
        tables = list(reversed(db.metadata.sorted_tables))
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
        evidence_dir = app.config["TRACKER_EVIDENCE_DIR"]
        if os.path.isdir(evidence_dir):
            for name in os.listdir(evidence_dir):
                path = os.path.join(evidence_dir, name)
                if os.path.isfile(path):
                    os.remove(path)


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """An application context, for service-level tests."""
    with app.app_context():
        yield
        from tracker.extensions import db

        db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client."""
    return app.test_client()


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
