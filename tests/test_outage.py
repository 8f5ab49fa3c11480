"""Issue 20, finding 3: a database outage is a 503 with Retry-After to every caller (SPEC §7).

The test starts a throw-away PostgreSQL cluster of its own, logs a user in on the pages and the
API, stops the cluster (as a crash would) and asks the pages a logged-in user, an anonymous
user and an API client meet.  Each gets 503 with ``Retry-After``, on pages in the language
that needs no database to be known; after a restart the same session works again.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.conftest import _need, _test_config
from tests.support.pages import login, page_client

#: The language's word for the outage, as the catalogues have it.
OUTAGE = {"zh_Hans": "数据库暂时无法访问", "bo": "གཞི་གྲངས་མཛོད", "en": "The database is unavailable"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A PostgreSQL cluster in a temporary directory, run as ``postgres`` when we are root."""

    def __init__(self, root: str) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            _need("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
        self.bin = os.path.dirname(found[-1])
        self.root = root
        self.data = os.path.join(root, "data")
        self.port = _free_port()
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            self.prefix = ["runuser", "-u", "postgres", "--"]
        else:
            self.prefix = []
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.prefix, os.path.join(self.bin, tool), *args], check=True,
                       capture_output=True, timeout=120)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        # -w waits until the server accepts connections.
        self._run("pg_ctl", "-D", self.data, "-w", "-t", "60", "-l",
                  os.path.join(self.root, "log"), "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off",
                  "start")

    def stop(self) -> None:
        # -m immediate: the server dies as in a crash; -w waits until it has.
        self._run("pg_ctl", "-D", self.data, "-w", "-m", "immediate", "stop")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    root = tempfile.mkdtemp(prefix="tracker-outage-")
    try:
        pg = Cluster(root)
        pg.start()
        yield pg
        try:
            pg.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def outage_app(cluster: Cluster) -> Iterator[Flask]:
    from flask_migrate import upgrade

    from tracker import create_app
    from tracker.extensions import db

    tmp = tempfile.mkdtemp(prefix="tracker-outage-app-")
    application = create_app({**_test_config(cluster.url, tmp),
                              "TRACKER_DB_PING_IDLE_SECONDS": 0.0})
    with application.app_context():
        upgrade()
        from tests.factories import Factories

        make = Factories()
        county = make.org("玛多县", "county", code="MD")
        make.user("officer", county, username="off", display_name="才让")
        make.user("officer", county, username="bo.off", display_name="拉毛措").locale = "bo"
        db.session.commit()
    yield application
    with application.app_context():
        db.engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)


def _assert_503(resp: Any, lang: str) -> None:
    assert resp.status_code == 503, resp.text[:300]
    assert int(resp.headers["Retry-After"]) > 0
    assert OUTAGE[lang] in resp.text


def test_every_caller_gets_503_with_retry_after_while_the_database_is_down(
        cluster: Cluster, outage_app: Flask) -> None:
    chinese = page_client(outage_app)
    tibetan = page_client(outage_app)
    anonymous = outage_app.test_client()
    api = outage_app.test_client()
    assert login(chinese, "off").status_code == 302
    assert login(tibetan, "bo.off").status_code == 302
    token = api.post("/api/v1/auth/tokens",
                     json={"username": "off", "password": "secret-pass-1"}).get_json()["token"]
    assert chinese.get("/").status_code == 200
    cluster.stop()
    try:
        for path in ("/", "/issues", "/notifications", "/public"):
            _assert_503(chinese.get(path), "zh_Hans")
        # The logged-in Tibetan reader: the language comes from the cookie set at login.
        _assert_503(tibetan.get("/"), "bo")
        _assert_503(anonymous.get("/public", headers={"Accept-Language": "en"}), "en")
        login_page = anonymous.get("/login")
        assert login_page.status_code in (200, 503)  # the form itself needs no database
        posted = anonymous.post("/login", data={"username": "off", "password": "x"})
        assert posted.status_code in (400, 503)  # CSRF first (no token), or the outage
        resp = api.get("/api/v1/issues", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 503 and resp.get_json()["reason"] == "database_unavailable"
        assert int(resp.headers["Retry-After"]) > 0
    finally:
        cluster.start()
    # Back by itself: the same session and token work again.
    assert chinese.get("/").status_code == 200
    assert api.get("/api/v1/issues",
                   headers={"Authorization": f"Bearer {token}"}).status_code == 200
